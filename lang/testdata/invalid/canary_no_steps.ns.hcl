service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081"] }
  group "b" { instances = ["127.0.0.1:18082"] }
  strategy "canary" { # ERROR: Missing canary steps
  }
  deploy { command = ["true"] }
}
