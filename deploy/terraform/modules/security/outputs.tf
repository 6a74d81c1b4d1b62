output "security_group_ids" {
  description = "Security group id per role: admin, lb, app, db"
  value       = { for role, group in aws_security_group.this : role => group.id }
}
