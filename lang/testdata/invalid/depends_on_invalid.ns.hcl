service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  depends_on = [
    "user-service", # ERROR: Invalid depends_on
    user.service, # ERROR: Invalid depends_on
  ]
}
service "x" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18003"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  depends_on = "web" # ERROR: Invalid depends_on
}
