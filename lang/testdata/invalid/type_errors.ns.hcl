locals {
  n = 1 + "a" # ERROR: Invalid operand
}
service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  deploy_env = {} # ERROR: Unsupported argument
}
