variable "name" {
  description = "Prefix for every resource's Name tag, e.g. scaleboard-split"
  type        = string
}

variable "cidr" {
  description = "The VPC's IPv4 block; public subnets take the first /24s, private ones the /24s from .100 on"
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && tonumber(split("/", var.cidr)[1]) <= 16
    error_message = "cidr must be an IPv4 block of /16 or larger, e.g. 10.0.0.0/16."
  }
}

variable "azs" {
  description = "Availability zones to spread the subnets over (at least 2: RDS and the ALB need two)"
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2
    error_message = "Give at least 2 availability zones."
  }
}

variable "tags" {
  description = "Tags added to every resource"
  type        = map(string)
  default     = {}
}
