locals {
  hosts = ["127.0.0.1:18001", "127.0.0.1:18002"]
}
service "a" {
  version = "1.0.0"
  group "x" { instances = local.hosts }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
service "b" {
  version = "1.0.0"
  group "x" { instances = concat(["127.0.0.1:18003"], [local.hosts[1]]) } # ERROR: Duplicate instance address
  strategy "rolling" {}
  deploy { command = ["true"] }
}
service "c" {
  version = "1.0.0"
  group "x" { instances = "127.0.0.1:18009" } # ERROR: Incorrect attribute value type
  strategy "rolling" {}
  deploy { command = ["true"] }
}
