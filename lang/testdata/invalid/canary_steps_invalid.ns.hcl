service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081"] }
  group "b" { instances = ["127.0.0.1:18082"] }
  strategy "canary" {
    step {
      weight   = 10
      pause    = "two minutes" # ERROR: Invalid duration
      analysis = ["error-rate", "latncy"] # ERROR: Reference to undeclared analysis
    }
    step {
      weight = 50
      pause  = "30d" # ERROR: Invalid duration
      pause2 = "1m" # ERROR: Unsupported argument
    }
    step { # ERROR: Missing required argument
      pause = "0s" # ERROR: Duration out of range
    }
    step { weight = 100 }
  }
  deploy { command = ["true"] }
  analysis "error-rate" {
    http      = "http://127.0.0.1:9090/q"
    max_value = 0.01
  }
  analysis "latency" {
    http      = "http://127.0.0.1:9090/q"
    max_value = 0.01
  }
}
