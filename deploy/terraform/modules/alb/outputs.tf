output "dns_name" {
  description = "The load balancer's DNS name"
  value       = aws_lb.this.dns_name
}

output "url" {
  description = "The site's URL through the load balancer"
  value       = "${var.certificate_arn == null ? "http" : "https"}://${aws_lb.this.dns_name}"
}
