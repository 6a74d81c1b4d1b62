variable "name" {
  description = "Prefix for the servers' Name tags and the key pair"
  type        = string
}

variable "servers" {
  description = <<-EOT
    The servers, keyed by a stable name (e.g. db, app-1, app-2, lb): adding app-3 later adds one
    server and touches no other. roles is a subset of db, app, lb, monitor.
  EOT
  type = map(object({
    roles              = list(string)
    instance_type      = string
    subnet_id          = string
    security_group_ids = list(string)
    # The IAM instance profile the server wears (the database server's writes its backups); none by default.
    instance_profile = optional(string)
  }))

  validation {
    condition = alltrue([
      for server in values(var.servers) :
      length(server.roles) > 0 && alltrue([for role in server.roles : contains(["db", "app", "lb", "monitor"], role)])
    ])
    error_message = "Each server needs roles from db, app, lb and monitor."
  }
}

variable "ami_id" {
  description = "The image every server boots (Debian 12 or Ubuntu 24.04, amd64)"
  type        = string

  validation {
    condition     = startswith(var.ami_id, "ami-")
    error_message = "ami_id must be an AMI id (ami-...)."
  }
}

variable "public_key" {
  description = "OpenSSH public key installed for the image's default user (admin on Debian, ubuntu on Ubuntu)"
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp[0-9]+) ", var.public_key))
    error_message = "public_key must be an OpenSSH public key line (ssh-ed25519 AAAA...)."
  }
}

variable "root_volume_size" {
  description = "Root volume size in GiB (gp3, encrypted)"
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size >= 8 && var.root_volume_size <= 1024
    error_message = "root_volume_size must be 8..1024 GiB."
  }
}

variable "detailed_monitoring" {
  description = "CloudWatch metrics every minute instead of every 5 (billed per server)"
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
