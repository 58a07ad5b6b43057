service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy {
    command = [] # ERROR: Empty argument
    timeout = "48h" # ERROR: Duration out of range
  }
  deploy { # ERROR: Duplicate deploy block
    command = ["true"]
  }
}
