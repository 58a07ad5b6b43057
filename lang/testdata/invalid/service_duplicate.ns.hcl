service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18001"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
service "web" { # ERROR: Duplicate service
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18002"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
