variable "release" { # ERROR: Required variable not set
  type = string
}

variable "other" { # ERROR: Required variable not set
}
service "web" {
  version = var.release
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
