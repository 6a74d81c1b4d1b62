output "vpc_id" {
  description = "The VPC's id"
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "The VPC's IPv4 block"
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnet ids, in the order of var.azs"
  value       = [for az in var.azs : aws_subnet.public[az].id]
}

output "public_subnet_cidrs" {
  description = "Public subnets' IPv4 blocks, in the order of var.azs (where an ALB's nodes take their addresses)"
  value       = [for az in var.azs : aws_subnet.public[az].cidr_block]
}

output "private_subnet_ids" {
  description = "Private subnet ids, in the order of var.azs"
  value       = [for az in var.azs : aws_subnet.private[az].id]
}
