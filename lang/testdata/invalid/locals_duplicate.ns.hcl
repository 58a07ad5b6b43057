locals {
  release = "1.0.0"
}

locals {
  release = "2.0.0" # ERROR: Duplicate local value
}
service "web" {
  version = local.release
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
