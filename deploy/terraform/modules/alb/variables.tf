variable "name" {
  description = "Name of the load balancer and its target group (at most 28 characters)"
  type        = string

  validation {
    condition     = length(var.name) <= 28
    error_message = "name must have at most 28 characters (ALB names are limited to 32, the target group adds -app)."
  }
}

variable "vpc_id" {
  description = "The VPC of the app servers"
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets in at least two AZs"
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least 2 AZs."
  }
}

variable "security_group_ids" {
  description = "Groups of the load balancer (the lb group)"
  type        = list(string)
}

variable "targets" {
  description = "App servers to balance over: stable key => instance id"
  type        = map(string)
}

variable "app_port" {
  description = "The port gunicorn listens on on the app servers"
  type        = number
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on 443; null serves plain HTTP on 80 only"
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
