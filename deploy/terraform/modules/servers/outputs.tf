output "servers" {
  description = "Per server key: roles, instance id, public and private IPv4 address"
  value = {
    for key, instance in aws_instance.this : key => {
      roles             = var.servers[key].roles
      id                = instance.id
      public_ip         = instance.public_ip
      private_ip        = instance.private_ip
      availability_zone = instance.availability_zone
    }
  }
}

output "instances" {
  description = "The aws_instance resources by server key (every attribute, e.g. for checks and extra wiring)"
  value       = aws_instance.this
}
