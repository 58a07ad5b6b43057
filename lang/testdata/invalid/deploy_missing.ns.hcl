service "web" { # ERROR: Missing deploy block
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081"] }
  strategy "rolling" {}
}
