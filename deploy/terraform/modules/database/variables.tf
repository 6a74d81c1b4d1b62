variable "name" {
  description = "Identifier of the RDS instance and its subnet group"
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two AZs (RDS requires two)"
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give at least 2 subnets in different AZs."
  }
}

variable "security_group_ids" {
  description = "Groups of the database (the db group: PostgreSQL from the app servers only)"
  type        = list(string)
}

variable "instance_class" {
  description = "RDS instance class"
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS class (db.t4g.micro, db.m7g.large, ...)."
  }
}

variable "engine_version" {
  description = "PostgreSQL major version (the same major as the db server role installs)"
  type        = string
  default     = "15"

  validation {
    condition     = contains(["15", "16", "17"], var.engine_version)
    error_message = "engine_version must be 15, 16 or 17."
  }
}

variable "allocated_storage" {
  description = "Storage in GiB (gp3, encrypted)"
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536
    error_message = "allocated_storage must be 20..65536 GiB."
  }
}

variable "database_name" {
  description = "The app's database"
  type        = string
  default     = "scaleboard"
}

variable "username" {
  description = "The app's database user (RDS master user)"
  type        = string
  default     = "scaleboard"
}

variable "password" {
  description = "The database user's password (from a secret store or TF_VAR_database_password; never in git)"
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.password) >= 16
    error_message = "The database password must have at least 16 characters."
  }
}

variable "multi_az" {
  description = "A standby in a second AZ (doubles the price; for production)"
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete the database (turn off deliberately before destroy)"
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery)"
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be 1..35."
  }
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
