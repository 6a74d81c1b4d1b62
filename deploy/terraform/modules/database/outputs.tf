output "address" {
  description = "The database's host name (inside the VPC)"
  value       = aws_db_instance.this.address
}

output "port" {
  description = "The database's port"
  value       = aws_db_instance.this.port
}

output "storage_encrypted" {
  description = "Whether the database's storage is encrypted"
  value       = aws_db_instance.this.storage_encrypted
}

output "publicly_accessible" {
  description = "Whether the database has a public address (never, here)"
  value       = aws_db_instance.this.publicly_accessible
}

output "backup_retention_days" {
  description = "Days of automated backups: how far back a point-in-time restore reaches"
  value       = aws_db_instance.this.backup_retention_period
}
