# Plan-level checks of the root in deploy/terraform with a mocked AWS provider: no account, no network.
# Run by tests/deploy/terraform/test_static.py (terraform test -test-directory=...).
mock_provider "aws" {
  override_data {
    target = data.aws_availability_zones.available
    values = { names = ["eu-central-1a", "eu-central-1b", "eu-central-1c"] }
  }
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  override_data {
    target = module.backups.data.aws_iam_policy_document.tls_only
    values = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  override_data {
    target = module.backups.data.aws_iam_policy_document.assume_by_ec2
    values = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  override_data {
    target = module.backups.data.aws_iam_policy_document.writer
    values = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  override_data {
    target = data.aws_ami.image
    values = { id = "ami-0123456789abcdef0" }
  }
}

variables {
  admin_cidr     = "203.0.113.7/32"
  ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3QtdGVzdC10ZXN0LXRlc3QtdGVzdC10ZXN0LXRlc3Q test"
}

run "all_in_one_is_one_server_in_every_role" {
  command = plan

  assert {
    condition     = keys(module.servers.servers) == ["all-in-one"]
    error_message = "all-in-one must plan exactly one server"
  }
  assert {
    condition     = join(",", module.servers.servers["all-in-one"].roles) == "db,app,lb,monitor"
    error_message = "the all-in-one server must carry the db, app, lb and monitor roles"
  }
  assert {
    condition     = length(module.database) == 0 && length(module.alb) == 0
    error_message = "all-in-one has no RDS and no ALB"
  }
}

run "servers_require_imdsv2_and_encrypted_gp3" {
  command = plan

  variables {
    topology    = "split"
    app_servers = 2
  }

  assert {
    condition = alltrue([
      for server in module.servers.instances : server.metadata_options[0].http_tokens == "required"
    ])
    error_message = "every server must require IMDSv2 tokens"
  }
  assert {
    condition = alltrue([
      for server in module.servers.instances :
      server.root_block_device[0].encrypted && server.root_block_device[0].volume_type == "gp3"
    ])
    error_message = "every root volume must be encrypted gp3"
  }
  assert {
    condition     = module.servers.instances["app-1"].tags["Role"] == "app" && module.servers.instances["db"].tags["Project"] == "scaleboard"
    error_message = "servers must carry Project, Role and Name tags"
  }
}

run "split_counts_and_stable_keys" {
  # apply (against the mock): subnet ids exist only after their subnets do.
  command = apply

  variables {
    topology    = "split"
    app_servers = 3
  }

  assert {
    condition     = toset(keys(module.servers.servers)) == toset(["db", "app-1", "app-2", "app-3", "lb", "monitor"])
    error_message = "split with app_servers 3 must plan db, app-1..3, lb and monitor"
  }
  assert {
    condition     = module.servers.instances["app-1"].subnet_id != module.servers.instances["app-2"].subnet_id
    error_message = "app servers must alternate between the two AZs"
  }
}

run "security_group_rules_open_only_what_each_role_needs" {
  # apply (against the mock): the rules name their groups by id, which exist only after the groups do.
  command = apply

  variables {
    topology = "split"
  }

  assert {
    condition     = one(module.security.rules["ssh"].cidr_blocks) == "203.0.113.7/32"
    error_message = "SSH must be open to admin_cidr only"
  }
  assert {
    condition = alltrue([
      for name, rule in module.security.rules : rule.cidr_blocks == null || rule.type == "egress" || contains(["http", "https"], name)
      || (contains(["ssh", "prometheus", "alertmanager", "grafana"], name) && one(coalesce(rule.cidr_blocks, [""])) == var.admin_cidr)
    ])
    error_message = "only 80/443 (the LB) may take traffic from anywhere; SSH and the monitor's pages from admin_cidr; the rest from groups"
  }
  assert {
    condition = {
      for name, rule in module.security.rules : name => [rule.from_port, rule.security_group_id, rule.source_security_group_id]
      if rule.type == "ingress" && rule.cidr_blocks == null
      } == {
      app                 = [var.app_port, module.security.security_group_ids.app, module.security.security_group_ids.lb]
      db                  = [5432, module.security.security_group_ids.db, module.security.security_group_ids.app]
      app-metrics         = [var.app_port, module.security.security_group_ids.app, module.security.security_group_ids.monitor]
      node-exporter       = [var.exporter_ports.node, module.security.security_group_ids.admin, module.security.security_group_ids.monitor]
      nginx-exporter      = [var.exporter_ports.nginx, module.security.security_group_ids.lb, module.security.security_group_ids.monitor]
      nginx-log-exporter  = [var.exporter_ports.nginx_log, module.security.security_group_ids.lb, module.security.security_group_ids.monitor]
      postgresql-exporter = [var.exporter_ports.postgresql, module.security.security_group_ids.db, module.security.security_group_ids.monitor]
    }
    error_message = "group-to-group ingress: the app port from the LB, PostgreSQL from the app servers, and the exporters and /metrics from the monitor server only"
  }
}

run "rds_and_alb_replace_the_db_and_lb_servers" {
  command = plan

  variables {
    topology          = "split"
    use_rds           = true
    use_alb           = true
    database_password = "a-long-enough-test-password" # checkov:skip=CKV_SECRET_6: plan only, nothing is created
    # Two weeks of automated backups: point-in-time restore reaches back that far.
    database_backup_retention_days = 14
  }

  assert {
    condition     = module.database[0].backup_retention_days == 14
    error_message = "database_backup_retention_days must reach RDS's backup_retention_period"
  }
  assert {
    condition     = jsonencode(output.inventory.lb_networks) == jsonencode(["10.0.0.0/24", "10.0.1.0/24"]) && !output.inventory.lb_https
    error_message = "the inventory must name the ALB's subnets (the app servers admit and trust them), and plain HTTP without a certificate"
  }
  assert {
    condition     = toset(keys(module.servers.servers)) == toset(["app-1", "app-2", "monitor"])
    error_message = "with RDS and an ALB only the app servers and the monitor server are planned"
  }
  assert {
    condition     = module.database[0].storage_encrypted && !module.database[0].publicly_accessible
    error_message = "RDS must be encrypted and not public"
  }
  assert {
    condition     = length(module.alb) == 1
    error_message = "use_alb must plan the ALB module"
  }
}

run "the_alb_serves_plain_http_until_given_a_certificate" {
  command = plan

  variables {
    topology = "split"
    use_alb  = true
  }

  assert {
    condition     = keys(module.alb[0].listeners) == ["80"] && module.alb[0].listeners["80"] == "forward"
    error_message = "without certificate_arn the ALB forwards plain HTTP"
  }
}

run "an_acm_certificate_turns_on_https_at_the_alb" {
  command = plan

  variables {
    topology        = "split"
    use_alb         = true
    certificate_arn = "arn:aws:acm:eu-central-1:123456789012:certificate/0d1f5b1e-2a3c-4b5d-8e9f-0a1b2c3d4e5f"
  }

  assert {
    condition     = jsonencode(module.alb[0].listeners) == jsonencode({ "443" = "forward", "80" = "redirect" })
    error_message = "with certificate_arn the ALB serves HTTPS on 443 and redirects port 80 to it"
  }
  assert {
    condition     = output.inventory.lb_https
    error_message = "the inventory must say the ALB terminates TLS (the app then sets Secure cookies)"
  }
}

run "rds_keeps_automated_backups" {
  command = plan

  variables {
    topology                       = "split"
    use_rds                        = true
    database_password              = "a-long-enough-test-password" # checkov:skip=CKV_SECRET_6: plan only, nothing is created
    database_backup_retention_days = 0
  }

  expect_failures = [var.database_backup_retention_days]
}

run "a_certificate_arn_needs_the_alb" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:eu-central-1:123456789012:certificate/0d1f5b1e-2a3c-4b5d-8e9f-0a1b2c3d4e5f"
  }

  expect_failures = [terraform_data.checks]
}

run "admin_cidr_cannot_be_the_internet" {
  command = plan

  variables {
    admin_cidr = "0.0.0.0/0"
  }

  expect_failures = [var.admin_cidr]
}

run "app_servers_is_limited" {
  command = plan

  variables {
    topology    = "split"
    app_servers = 21
  }

  expect_failures = [var.app_servers]
}

run "topology_is_a_fixed_set" {
  command = plan

  variables {
    topology = "huge"
  }

  expect_failures = [var.topology]
}

run "alb_needs_split" {
  command = plan

  variables {
    use_alb = true
  }

  expect_failures = [terraform_data.checks]
}

run "rds_needs_a_password" {
  command = plan

  variables {
    topology = "split"
    use_rds  = true
  }

  expect_failures = [terraform_data.checks]
}

run "only_the_database_server_wears_the_backup_writer_profile" {
  command = plan

  variables {
    topology    = "split"
    app_servers = 2
  }

  assert {
    condition     = module.servers.instances["db"].iam_instance_profile == "scaleboard-db-backups"
    error_message = "the database server must wear the backups writer's instance profile"
  }
  assert {
    condition = alltrue([
      for key, server in local.split_servers : server.instance_profile == null if key != "db"
    ])
    error_message = "no server but the database's may hold AWS credentials"
  }
  assert {
    condition     = output.backup_repository.path == "/db" && output.backup_repository.region == var.region
    error_message = "the repository's path must be the prefix the profile is limited to"
  }
}
