locals {
  port    = tonumber("eighty") # ERROR: Invalid function argument
  tags    = { a = 1 }
  missing = local.tags.b # ERROR: Unsupported attribute
  derived = local.port + 1
}
service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
