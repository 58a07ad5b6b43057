service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081"] }
  group "b" { instances = ["127.0.0.1:18082"] }
  strategy "canary" {
    step { weight = -5 } # ERROR: Invalid canary weight
    step { weight = 30 }
    step { weight = 0 } # ERROR: Invalid canary weight
    step { weight = 20 } # ERROR: Invalid canary weight
    step { weight = 120 } # ERROR: Invalid canary weight
    step { weight = 30 } # ERROR: Invalid canary weight
    step { weight = 60 } # ERROR: Invalid canary weight
  }
  deploy { command = ["true"] }
}
