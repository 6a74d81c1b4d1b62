output "dns_name" {
  description = "The load balancer's DNS name"
  value       = aws_lb.this.dns_name
}

output "url" {
  description = "The site's URL through the load balancer"
  value       = "${var.certificate_arn == null ? "http" : "https"}://${aws_lb.this.dns_name}"
}

output "listeners" {
  description = "Port => the listener's action: forward to the app servers, or (port 80, once a certificate is given) redirect to HTTPS"
  value = {
    for listener in concat([aws_lb_listener.http], aws_lb_listener.https) :
    tostring(listener.port) => listener.default_action[0].type
  }
}
