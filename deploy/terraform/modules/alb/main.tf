resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:access logs need a log bucket with an ELB write policy; nginx-style logs come from the app servers
  #checkov:skip=CKV2_AWS_28:a WAF costs more than this app's servers; add one when the site is a target
  #checkov:skip=CKV_AWS_150:deletion protection would stop `make destroy-aws`; the servers, not the ALB, hold state
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.subnet_ids
  security_groups            = var.security_group_ids
  drop_invalid_header_fields = true

  tags = var.tags
}

resource "aws_lb_target_group" "app" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; the hop to the app servers stays inside the VPC
  name     = "${var.name}-app"
  port     = var.app_port
  protocol = "HTTP"
  vpc_id   = var.vpc_id

  # Same probes as nginx and Kubernetes use: /healthz says the process answers.
  health_check {
    path                = "/healthz"
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  # A rolling deploy drains one server; in-flight requests get this long to finish.
  deregistration_delay = 30

  tags = var.tags
}

resource "aws_lb_target_group_attachment" "app" {
  for_each = var.targets

  target_group_arn = aws_lb_target_group.app.arn
  target_id        = each.value
  port             = var.app_port
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:plain HTTP is served only until a certificate is given; then it redirects to HTTPS
  #checkov:skip=CKV_AWS_103:TLS policy applies to the HTTPS listener below
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = var.certificate_arn == null ? "forward" : "redirect"
    target_group_arn = var.certificate_arn == null ? aws_lb_target_group.app.arn : null

    dynamic "redirect" {
      for_each = var.certificate_arn == null ? [] : [1]
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  count = var.certificate_arn == null ? 0 : 1

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }

  tags = var.tags
}
