service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  analysis "error-rate" {
    http      = "prometheus:9090/query" # ERROR: Invalid URL
    max_value = "low" # ERROR: Incorrect attribute value type
    no_data   = "skip" # ERROR: Invalid no_data
  }
  analysis "error-rate" { # ERROR: Duplicate analysis
    http      = "http://127.0.0.1:9090/q"
    max_value = 1
  }
  analysis "latency" { # ERROR: Missing required argument
    http = "http://127.0.0.1:9090/q"
  }
}
