resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids

  tags = var.tags
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_293:deletion_protection is a variable, true unless the root says the setup is disposable
  #checkov:skip=CKV2_AWS_30:logging every statement costs storage and leaks data into logs; set log_statement in a parameter group to debug
  #checkov:skip=CKV_AWS_118:enhanced monitoring needs an IAM role and costs extra; CloudWatch's basic metrics cover a small app
  #checkov:skip=CKV_AWS_161:the app authenticates with a password from the env contract (DATABASE_URL), not IAM tokens
  #checkov:skip=CKV_AWS_157:multi_az is a variable: off for small setups (it doubles the price), on for production
  #checkov:skip=CKV_AWS_354:performance insights stay encrypted with the AWS-managed key (no KMS key to manage)
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  allocated_storage = var.allocated_storage
  storage_type      = "gp3"
  storage_encrypted = true

  db_name  = var.database_name
  username = var.username
  password = var.password

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = var.security_group_ids
  publicly_accessible    = false
  multi_az               = var.multi_az

  backup_retention_period         = var.backup_retention_days
  copy_tags_to_snapshot           = true
  deletion_protection             = var.deletion_protection
  skip_final_snapshot             = false
  final_snapshot_identifier       = "${var.name}-final"
  auto_minor_version_upgrade      = true
  performance_insights_enabled    = true
  enabled_cloudwatch_logs_exports = ["postgresql"]

  tags = var.tags
}
