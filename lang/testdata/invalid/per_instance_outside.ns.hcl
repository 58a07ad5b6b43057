provider "nginx" "edge" {
  upstreams_file = "/tmp/${instance.host}.conf" # ERROR: Per-instance value not allowed here
}

locals {
  v = version # ERROR: Per-instance value not allowed here
}
service "web" {
  version = "1.0.0-${service.name}" # ERROR: Per-instance value not allowed here
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
