variable "release" {
  default = "1.0.0"
}
service "web" {
  version = var.relase # ERROR: Reference to undeclared input variable
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  balancer "x" {
    provider = nginx.edge
    pool     = var["pool"] # ERROR: Invalid reference
  }
}

provider "nginx" "edge" {
  upstreams_file = "/tmp/a.conf"
}
