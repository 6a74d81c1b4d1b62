output "bucket" {
  description = "The backups bucket's name"
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "The backups bucket's ARN"
  value       = aws_s3_bucket.this.arn
}
