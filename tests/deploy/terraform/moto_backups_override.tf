# Test-only: copied into the copy's modules/backups as moto_override.tf. moto judges a bucket policy's statements
# without their conditions, so the TLS-only Deny (aws:SecureTransport = false) would refuse every request to the
# bucket, HTTPS included, and pgBackRest could not write. The tests hold an Allow of one harmless action instead;
# the real policy is checked by the plan tests and checkov. Never part of the user's configuration.
data "aws_iam_policy_document" "tls_only" {
  statement {
    sid       = "MotoCannotEvaluateConditions"
    effect    = "Allow"
    actions   = ["s3:GetBucketLocation"]
    resources = [aws_s3_bucket.this.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::123456789012:root"]
    }
  }
}
