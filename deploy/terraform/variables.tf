variable "name" {
  description = "Name of this deployment: prefixes resources and is the Project tag"
  type        = string
  default     = "scaleboard"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name))
    error_message = "name must be 3-20 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region"
  type        = string
  default     = "eu-central-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-central-1."
  }
}

variable "topology" {
  description = "all-in-one: one server runs PostgreSQL, the app and nginx; split: db + app_servers app servers + an nginx load balancer"
  type        = string
  default     = "all-in-one"

  validation {
    condition     = contains(["all-in-one", "split"], var.topology)
    error_message = "topology must be all-in-one or split."
  }
}

variable "app_servers" {
  description = "Number of app servers (split topology)"
  type        = number
  default     = 2

  validation {
    condition     = var.app_servers >= 1 && var.app_servers <= 20 && floor(var.app_servers) == var.app_servers
    error_message = "app_servers must be a whole number from 1 to 20."
  }
}

variable "admin_cidr" {
  description = "The only network that may SSH to the servers, e.g. your address as x.x.x.x/32"
  type        = string

  validation {
    condition     = can(cidrhost(var.admin_cidr, 0)) && !endswith(var.admin_cidr, "/0")
    error_message = "admin_cidr must be an IPv4 CIDR narrower than the whole internet (not 0.0.0.0/0), e.g. 203.0.113.7/32."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key for the servers' default user (the key Ansible connects with)"
  type        = string
}

variable "instance_types" {
  description = "EC2 instance type per server kind"
  type = object({
    all_in_one = optional(string, "t3.small")
    db         = optional(string, "t3.small")
    app        = optional(string, "t3.micro")
    lb         = optional(string, "t3.micro")
    monitor    = optional(string, "t3.small")
  })
  default = {}

  validation {
    condition     = alltrue([for type in values(var.instance_types) : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", type))])
    error_message = "Each instance type must look like t3.small."
  }
}

variable "image" {
  description = "Which official image the AMI lookup finds: debian-12 (user admin) or ubuntu-24.04 (user ubuntu)"
  type        = string
  default     = "debian-12"

  validation {
    condition     = contains(["debian-12", "ubuntu-24.04"], var.image)
    error_message = "image must be debian-12 or ubuntu-24.04."
  }
}

variable "ami_id" {
  description = "Boot this AMI instead of looking up the latest official image (also where no lookup works, e.g. an emulator)"
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || startswith(coalesce(var.ami_id, "ami-"), "ami-")
    error_message = "ami_id must be an AMI id (ami-...) or null."
  }
}

variable "use_rds" {
  description = "split only: RDS PostgreSQL (private, encrypted) instead of a db server"
  type        = bool
  default     = false
}

variable "database_backup_retention_days" {
  description = "use_rds: days of RDS's automated backups, so how far back a point-in-time restore reaches (1..35)"
  type        = number
  default     = 7

  validation {
    condition     = var.database_backup_retention_days >= 1 && var.database_backup_retention_days <= 35
    error_message = "database_backup_retention_days must be 1..35: RDS keeps automated backups (and point-in-time restore) only then."
  }
}

variable "app_port" {
  description = "gunicorn's port on the app servers: deploy/defaults.env's APP_PORT, which aws.py passes (TF_VAR_app_port)"
  type        = number
}

variable "exporter_ports" {
  description = "What the monitor server scrapes: deploy/defaults.env's NODE_, NGINX_, NGINX_LOG_ and POSTGRES_EXPORTER_PORT, which aws.py passes"
  type = object({
    node       = number
    nginx      = number
    nginx_log  = number
    postgresql = number
  })
}

variable "monitor_ports" {
  description = "The monitor server's pages: deploy/defaults.env's PROMETHEUS_, ALERTMANAGER_ and GRAFANA_PORT, which aws.py passes"
  type = object({
    prometheus   = number
    alertmanager = number
    grafana      = number
  })
}

variable "use_alb" {
  description = "split only: an Application Load Balancer instead of the nginx lb server"
  type        = bool
  default     = false
}

variable "certificate_arn" {
  description = "use_alb only: an ACM certificate for the site's domain; the ALB then serves HTTPS and redirects HTTP"
  type        = string
  default     = null
}

variable "database_password" {
  description = "RDS user password when use_rds (set TF_VAR_database_password; never in git)"
  type        = string
  default     = null
  sensitive   = true
}

variable "backup_bucket" {
  description = "Name of the S3 bucket for backups; null = <name>-backups-<account id>"
  type        = string
  default     = null
}

variable "disposable" {
  description = "Throwaway setup: destroy may delete a non-empty backups bucket and the RDS database"
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every resource"
  type        = map(string)
  default     = {}
}
