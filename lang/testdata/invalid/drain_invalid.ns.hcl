service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  drain {
    propagation = "2h" # ERROR: Duration out of range
    timeout     = "5 minutes" # ERROR: Invalid duration
    grace       = "1s" # ERROR: Unsupported argument
  }
  drain { # ERROR: Duplicate drain block
    timeout = "1m"
  }
}
