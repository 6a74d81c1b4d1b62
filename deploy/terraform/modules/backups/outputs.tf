output "bucket" {
  description = "The backups bucket's name"
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "The backups bucket's ARN"
  value       = aws_s3_bucket.this.arn
}

output "writer_prefix" {
  description = "The key prefix the writer's instance profile is limited to (pgBackRest's repo1-path)"
  value       = var.writer_prefix
}

output "writer_instance_profile" {
  description = "Name of the instance profile the database server wears to write its backups"
  value       = aws_iam_instance_profile.writer.name
}
