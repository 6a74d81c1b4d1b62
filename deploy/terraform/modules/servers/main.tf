resource "aws_key_pair" "this" {
  key_name   = var.name
  public_key = var.public_key

  tags = var.tags
}

resource "aws_instance" "this" {
  #checkov:skip=CKV_AWS_126:detailed monitoring is a variable (1-minute metrics cost extra per server); off by default
  #checkov:skip=CKV_AWS_88:servers take SSH from admin_cidr on their public address (no NAT or bastion to pay for); the groups close the rest
  #checkov:skip=CKV2_AWS_41:only the database server calls an AWS API (its backups) and wears a profile; the others get no credentials
  for_each = var.servers

  ami                    = var.ami_id
  instance_type          = each.value.instance_type
  subnet_id              = each.value.subnet_id
  vpc_security_group_ids = each.value.security_group_ids
  key_name               = aws_key_pair.this.key_name
  iam_instance_profile   = each.value.instance_profile
  monitoring             = var.detailed_monitoring
  ebs_optimized          = true

  # IMDSv2 only: a stolen request from the app cannot read the instance's credentials.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    encrypted             = true
    delete_on_termination = true
  }

  tags = merge(var.tags, {
    Name = "${var.name}-${each.key}"
    Role = join("+", each.value.roles)
  })

  lifecycle {
    # A newer AMI must not replace running servers; roll them deliberately (taint or -replace).
    ignore_changes = [ami]
  }
}
