variable "bucket" {
  description = "Globally unique name of the backups bucket"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "bucket must be a valid S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens."
  }
}

variable "noncurrent_days" {
  description = "Days an overwritten or deleted backup is kept before it expires"
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_days >= 1
    error_message = "noncurrent_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a bucket that still holds backups (tests and throwaway setups only)"
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}

variable "writer_prefix" {
  description = "The key prefix (a folder) the database server's instance profile may list, read, write and delete under"
  type        = string
  default     = "db"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.writer_prefix))
    error_message = "writer_prefix must be one folder name: lower-case letters, digits and hyphens."
  }
}

variable "writer_name" {
  description = "Name of the IAM role and instance profile of the server that writes backups"
  type        = string
}
