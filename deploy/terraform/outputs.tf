output "servers" {
  description = "Per server key (all-in-one, db, app-1.., lb): roles, instance id, public and private IPv4"
  value       = module.servers.servers
}

output "url" {
  description = "The site's URL: the ALB's, else the load balancer server's public address"
  value = (
    length(module.alb) > 0 ? module.alb[0].url
    : "http://${one([for server in module.servers.servers : server.public_ip if contains(server.roles, "lb")])}"
  )
}

output "inventory" {
  description = "What deploy/terraform/aws.py (write_inventory) turns into the Ansible aws inventory (the group contract)"
  value = {
    topology     = var.topology
    ansible_user = local.images[var.image].user
    hosts = {
      for key, server in module.servers.servers : "${var.name}-${key}" => {
        groups                     = server.roles
        ansible_host               = server.public_ip
        scaleboard_private_address = server.private_ip
      }
    }
    database_address = length(module.database) > 0 ? module.database[0].address : null
    lb_dns_name      = length(module.alb) > 0 ? module.alb[0].dns_name : null
    # The ALB's nodes connect from its subnets: the app servers admit and trust those networks.
    lb_networks = length(module.alb) > 0 ? module.network.public_subnet_cidrs : []
    lb_https    = length(module.alb) > 0 && var.certificate_arn != null
  }
}

output "backup_bucket" {
  description = "The S3 bucket for database backups"
  value       = module.backups.bucket
}

output "backup_repository" {
  description = "pgBackRest's S3 repository: bucket, region and the path the database server's instance profile may write"
  value = {
    bucket = module.backups.bucket
    region = var.region
    path   = "/${module.backups.writer_prefix}"
  }
}
