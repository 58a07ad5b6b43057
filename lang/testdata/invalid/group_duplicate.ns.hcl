service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18001"] }
  group "a" { instances = ["127.0.0.1:18002"] } # ERROR: Duplicate group
  group "b" { # ERROR: Missing required argument
  }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
