service "web" { # ERROR: Missing required argument
  verison = "1.0.0" # ERROR: Unsupported argument
  group "a" { instances = ["127.0.0.1:18081"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
