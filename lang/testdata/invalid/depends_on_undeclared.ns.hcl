service "a" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18001"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  depends_on = [
    service.user-servce, # ERROR: Reference to undeclared service
    service.b,
  ]
}
service "b" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18002"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
