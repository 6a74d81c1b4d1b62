variable "name" {
  description = "Prefix for the security groups' names"
  type        = string
}

variable "vpc_id" {
  description = "The VPC the groups belong to"
  type        = string
}

variable "admin_cidr" {
  description = "The only network SSH (22) is open to, e.g. your office's address as x.x.x.x/32"
  type        = string

  validation {
    condition     = can(cidrhost(var.admin_cidr, 0)) && !endswith(var.admin_cidr, "/0")
    error_message = "admin_cidr must be an IPv4 CIDR narrower than the whole internet (not 0.0.0.0/0), e.g. 203.0.113.7/32."
  }
}

variable "app_port" {
  description = "The port gunicorn listens on on app servers (split topology)"
  type        = number

  validation {
    condition     = var.app_port > 1023 && var.app_port < 65536
    error_message = "app_port must be an unprivileged port, 1024..65535."
  }
}

variable "exporter_ports" {
  description = "The exporters' ports the monitor group may reach: node (every server), nginx and nginx_log (lb), postgresql (db)"
  type = object({
    node       = number
    nginx      = number
    nginx_log  = number
    postgresql = number
  })
}

variable "monitor_ports" {
  description = "The monitor server's pages, open to admin_cidr: prometheus, alertmanager, grafana"
  type = object({
    prometheus   = number
    alertmanager = number
    grafana      = number
  })
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
