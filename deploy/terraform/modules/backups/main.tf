# pgBackRest's repository (the database's backups and archived WAL): private, encrypted, versioned (an
# overwrite or delete keeps the old copy for noncurrent_days), reachable only over TLS.
resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:access logs would need a second bucket; the backups bucket is written by one server only
  #checkov:skip=CKV_AWS_144:cross-region replication doubles the cost; enable it when the backups must survive a region
  #checkov:skip=CKV2_AWS_62:nothing consumes event notifications for backups
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) encrypts at rest without a KMS key's monthly cost and key policy to manage
  bucket        = var.bucket
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid     = "DenyPlainHTTP"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.tls_only.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# The database server's credentials (an instance profile, read by pgBackRest's repo1-s3-key-type=auto): this
# bucket's writer_prefix/ only. Listing is limited to the prefix too, so the server cannot even see other keys.
data "aws_iam_policy_document" "assume_by_ec2" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "writer" {
  statement {
    sid       = "ListThePrefix"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.this.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.writer_prefix}/*", var.writer_prefix]
    }
  }

  statement {
    sid       = "ReadWriteThePrefix"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.this.arn}/${var.writer_prefix}/*"]
  }
}

resource "aws_iam_role" "writer" {
  name               = var.writer_name
  assume_role_policy = data.aws_iam_policy_document.assume_by_ec2.json

  tags = var.tags
}

resource "aws_iam_role_policy" "writer" {
  name   = "${var.writer_name}-backups"
  role   = aws_iam_role.writer.id
  policy = data.aws_iam_policy_document.writer.json
}

resource "aws_iam_instance_profile" "writer" {
  name = var.writer_name
  role = aws_iam_role.writer.name

  tags = var.tags
}
