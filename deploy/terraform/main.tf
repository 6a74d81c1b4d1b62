locals {
  tags = merge(var.tags, { Project = var.name, Topology = var.topology, ManagedBy = "terraform" })
  sg   = module.security.security_group_ids

  # Official images and their default users; ami_id skips the lookup.
  images = {
    "debian-12"    = { owner = "136693071363", pattern = "debian-12-amd64-*", user = "admin" }
    "ubuntu-24.04" = { owner = "099720109477", pattern = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*", user = "ubuntu" }
  }
  ami_id = coalesce(var.ami_id, try(data.aws_ami.image[0].id, null))

  subnets = module.network.public_subnet_ids
  split   = var.topology == "split"

  # Stable keys: app-3 is always app-3, so scaling adds or removes only the servers at the end, and
  # app-N always lands in the same AZ.
  app_servers = {
    for n in range(1, var.app_servers + 1) : "app-${n}" => {
      roles              = ["app"]
      instance_type      = var.instance_types.app
      subnet_id          = local.subnets[(n - 1) % length(local.subnets)]
      security_group_ids = [local.sg.admin, local.sg.app]
      instance_profile   = null
    }
  }
  split_servers = merge(
    local.app_servers,
    var.use_rds ? {} : {
      db = {
        roles              = ["db"]
        instance_type      = var.instance_types.db
        subnet_id          = local.subnets[0]
        security_group_ids = [local.sg.admin, local.sg.db]
        instance_profile   = module.backups.writer_instance_profile
      }
    },
    var.use_alb ? {} : {
      lb = {
        roles              = ["lb"]
        instance_type      = var.instance_types.lb
        subnet_id          = local.subnets[0]
        security_group_ids = [local.sg.admin, local.sg.lb]
        instance_profile   = null
      }
    },
    {
      monitor = {
        roles              = ["monitor"]
        instance_type      = var.instance_types.monitor
        subnet_id          = local.subnets[0]
        security_group_ids = [local.sg.admin, local.sg.monitor]
        instance_profile   = null
      }
    },
  )
  all_in_one_servers = {
    all-in-one = {
      roles              = ["db", "app", "lb", "monitor"]
      instance_type      = var.instance_types.all_in_one
      subnet_id          = local.subnets[0]
      security_group_ids = [local.sg.admin, local.sg.lb, local.sg.app, local.sg.db, local.sg.monitor]
      instance_profile   = module.backups.writer_instance_profile
    }
  }
}

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:only the first two zones are used (slice below); a zone AWS adds later sorts after them
  state = "available"
}

data "aws_caller_identity" "current" {}

data "aws_ami" "image" {
  count = var.ami_id == null ? 1 : 0

  most_recent = true
  owners      = [local.images[var.image].owner]

  filter {
    name   = "name"
    values = [local.images[var.image].pattern]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

module "network" {
  source = "./modules/network"

  name = var.name
  azs  = slice(data.aws_availability_zones.available.names, 0, 2)
  tags = local.tags
}

module "security" {
  source = "./modules/security"

  name           = var.name
  vpc_id         = module.network.vpc_id
  admin_cidr     = var.admin_cidr
  app_port       = var.app_port
  exporter_ports = var.exporter_ports
  monitor_ports  = var.monitor_ports
  tags           = local.tags
}

module "servers" {
  source = "./modules/servers"

  name       = var.name
  servers    = local.split ? local.split_servers : local.all_in_one_servers
  ami_id     = local.ami_id
  public_key = var.ssh_public_key
  tags       = local.tags
}

module "database" {
  source = "./modules/database"
  # Without a password the precondition in terraform_data.checks says what to set.
  count = local.split && var.use_rds && var.database_password != null ? 1 : 0

  name                  = "${var.name}-db"
  subnet_ids            = module.network.private_subnet_ids
  security_group_ids    = [local.sg.db]
  password              = var.database_password
  backup_retention_days = var.database_backup_retention_days
  deletion_protection   = !var.disposable
  tags                  = local.tags
}

module "alb" {
  source = "./modules/alb"
  count  = local.split && var.use_alb ? 1 : 0

  name               = var.name
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.public_subnet_ids
  security_group_ids = [local.sg.lb]
  targets            = { for key, server in module.servers.servers : key => server.id if contains(server.roles, "app") }
  app_port           = var.app_port
  certificate_arn    = var.certificate_arn
  tags               = local.tags
}

module "backups" {
  source = "./modules/backups"

  bucket        = coalesce(var.backup_bucket, "${var.name}-backups-${data.aws_caller_identity.current.account_id}")
  writer_name   = "${var.name}-db-backups"
  force_destroy = var.disposable
  tags          = local.tags
}

# Combinations that cannot work stop the plan with a message instead of half-building.
resource "terraform_data" "checks" {
  lifecycle {
    precondition {
      condition     = local.split || !(var.use_rds || var.use_alb)
      error_message = "use_rds and use_alb need topology = \"split\" (the all-in-one server is its own database and load balancer)."
    }
    precondition {
      condition     = var.certificate_arn == null || var.use_alb
      error_message = "certificate_arn is the ALB's (use_alb = true); nginx servers get theirs from Let's Encrypt: make deploy-aws DOMAIN=..."
    }
    precondition {
      condition     = !var.use_rds || var.database_password != null
      error_message = "use_rds needs a database password: export TF_VAR_database_password=... (16+ characters)."
    }
  }
}
