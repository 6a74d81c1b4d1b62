output "security_group_ids" {
  description = "Security group id per role: admin, lb, app, db"
  value       = { for role, group in aws_security_group.this : role => group.id }
}

output "rules" {
  description = "The security group rules by name (ssh, http, https, app, db, lb-to-app, app-to-db, out-*)"
  value       = aws_security_group_rule.this
}
