service "bg" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18001", "127.0.0.1:18002"] }
  strategy "blue_green" { # ERROR: Too few groups
    keep_standby = true
  }
  deploy { command = ["true"] }
}
service "can" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18003", "127.0.0.1:18004"] }
  strategy "canary" { # ERROR: Too few groups
    step { weight = 100 }
  }
  deploy { command = ["true"] }
}
service "bg2" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18005"] }
  group "b" { instances = [] }
  strategy "blue_green" { # ERROR: Too few groups
    keep_standby = "yes" # ERROR: Incorrect attribute value type
  }
  deploy { command = ["true"] }
}
