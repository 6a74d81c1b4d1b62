output "address" {
  description = "The database's host name (inside the VPC)"
  value       = aws_db_instance.this.address
}

output "port" {
  description = "The database's port"
  value       = aws_db_instance.this.port
}
