locals {
  a    = local.b # ERROR: Circular reference in locals
  b    = "${local.a}-b"
  self = local.self # ERROR: Circular reference in locals
  ok   = "fine"
}
service "web" {
  version = local.ok
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
