locals {
  release = "1.0.0"
  copy    = local.relase # ERROR: Reference to undeclared local value
}
service "web" {
  version = local.releases # ERROR: Reference to undeclared local value
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
