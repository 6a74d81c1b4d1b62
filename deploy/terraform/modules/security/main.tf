# One group per role; a server wears the groups of its roles (the all-in-one server wears all five).
# Rules reference groups, not addresses, so scaling the app servers never touches a rule. The rules are
# aws_security_group_rule resources (as terraform-aws-modules/security-group has them): groups that
# reference each other (lb -> app -> db) cannot hold their rules inline without a cycle.
locals {
  groups = {
    admin   = "SSH from the admin network only"
    lb      = "HTTP and HTTPS from anywhere: the load balancer"
    app     = "The app port from the load balancer only"
    db      = "PostgreSQL from the app servers only"
    monitor = "Prometheus: scrapes the exporters; its pages for the admin network"
  }
}

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:attached by the root to servers, RDS and the ALB (outside this module, where the check cannot see)
  for_each = local.groups

  name        = "${var.name}-${each.key}"
  description = each.value
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

locals {
  rules = {
    ssh = {
      group       = "admin", type = "ingress", protocol = "tcp", port = 22, cidr = var.admin_cidr, source = null
      description = "SSH from the admin network"
    }
    http = {
      group       = "lb", type = "ingress", protocol = "tcp", port = 80, cidr = "0.0.0.0/0", source = null
      description = "HTTP from anywhere"
    }
    https = {
      group       = "lb", type = "ingress", protocol = "tcp", port = 443, cidr = "0.0.0.0/0", source = null
      description = "HTTPS from anywhere"
    }
    app = {
      group       = "app", type = "ingress", protocol = "tcp", port = var.app_port, cidr = null, source = "lb"
      description = "The app port from the load balancer"
    }
    db = {
      group       = "db", type = "ingress", protocol = "tcp", port = 5432, cidr = null, source = "app"
      description = "PostgreSQL from the app servers"
    }
    lb-to-app = {
      group       = "lb", type = "egress", protocol = "tcp", port = var.app_port, cidr = null, source = "app"
      description = "The load balancer to the app servers"
    }
    app-to-db = {
      group       = "app", type = "egress", protocol = "tcp", port = 5432, cidr = null, source = "db"
      description = "The app servers to PostgreSQL"
    }
    # The monitor server scrapes every server's node exporter (each wears the admin group), the load balancer's
    # nginx exporter, the database's PostgreSQL exporter and the app servers' /metrics; operators open its pages.
    node-exporter = {
      group       = "admin", type = "ingress", protocol = "tcp", port = var.exporter_ports.node, cidr = null, source = "monitor"
      description = "Host metrics to the monitor server"
    }
    nginx-exporter = {
      group       = "lb", type = "ingress", protocol = "tcp", port = var.exporter_ports.nginx, cidr = null, source = "monitor"
      description = "nginx metrics to the monitor server"
    }
    nginx-log-exporter = {
      group       = "lb", type = "ingress", protocol = "tcp", port = var.exporter_ports.nginx_log, cidr = null, source = "monitor"
      description = "nginx upstream errors (mtail) to the monitor server"
    }
    postgresql-exporter = {
      group       = "db", type = "ingress", protocol = "tcp", port = var.exporter_ports.postgresql, cidr = null, source = "monitor"
      description = "PostgreSQL metrics to the monitor server"
    }
    app-metrics = {
      group       = "app", type = "ingress", protocol = "tcp", port = var.app_port, cidr = null, source = "monitor"
      description = "The app /metrics to the monitor server"
    }
    monitor-to-node = {
      group       = "monitor", type = "egress", protocol = "tcp", port = var.exporter_ports.node, cidr = null, source = "admin"
      description = "The monitor server to every node exporter"
    }
    monitor-to-nginx = {
      group       = "monitor", type = "egress", protocol = "tcp", port = var.exporter_ports.nginx, cidr = null, source = "lb"
      description = "The monitor server to the nginx exporter"
    }
    monitor-to-nginx-log = {
      group       = "monitor", type = "egress", protocol = "tcp", port = var.exporter_ports.nginx_log, cidr = null, source = "lb"
      description = "The monitor server to mtail on the load balancer"
    }
    monitor-to-postgresql = {
      group       = "monitor", type = "egress", protocol = "tcp", port = var.exporter_ports.postgresql, cidr = null, source = "db"
      description = "The monitor server to the PostgreSQL exporter"
    }
    monitor-to-app = {
      group       = "monitor", type = "egress", protocol = "tcp", port = var.app_port, cidr = null, source = "app"
      description = "The monitor server to the app /metrics"
    }
    prometheus = {
      group       = "monitor", type = "ingress", protocol = "tcp", port = var.monitor_ports.prometheus, cidr = var.admin_cidr, source = null
      description = "Prometheus from the admin network"
    }
    alertmanager = {
      group       = "monitor", type = "ingress", protocol = "tcp", port = var.monitor_ports.alertmanager, cidr = var.admin_cidr, source = null
      description = "Alertmanager from the admin network"
    }
    grafana = {
      group       = "monitor", type = "ingress", protocol = "tcp", port = var.monitor_ports.grafana, cidr = var.admin_cidr, source = null
      description = "Grafana from the admin network"
    }
    # Every server wears the admin group: apt and PyPI over HTTP(S), name and time servers.
    out-http = {
      group       = "admin", type = "egress", protocol = "tcp", port = 80, cidr = "0.0.0.0/0", source = null
      description = "HTTP to the internet (packages)"
    }
    out-https = {
      group       = "admin", type = "egress", protocol = "tcp", port = 443, cidr = "0.0.0.0/0", source = null
      description = "HTTPS to the internet (packages)"
    }
    out-dns = {
      group       = "admin", type = "egress", protocol = "udp", port = 53, cidr = "0.0.0.0/0", source = null
      description = "DNS to the name servers"
    }
    out-ntp = {
      group       = "admin", type = "egress", protocol = "udp", port = 123, cidr = "0.0.0.0/0", source = null
      description = "NTP to the time servers"
    }
  }
}

resource "aws_security_group_rule" "this" {
  #checkov:skip=CKV_AWS_260:80 and 443 from anywhere are the load balancer's job (the lb group only)
  for_each = local.rules

  security_group_id        = aws_security_group.this[each.value.group].id
  type                     = each.value.type
  description              = each.value.description
  protocol                 = each.value.protocol
  from_port                = each.value.port
  to_port                  = each.value.port
  cidr_blocks              = each.value.cidr == null ? null : [each.value.cidr]
  source_security_group_id = each.value.source == null ? null : aws_security_group.this[each.value.source].id
}
