service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  health {
    http     = "${instance.address}/health" # ERROR: Invalid URL
    expect   = 700 # ERROR: Invalid expect
    interval = "2h" # ERROR: Duration out of range
    timeout  = "soon" # ERROR: Invalid duration
  }
  verify {
    http   = "http://${instance.address}/version"
    expect = 20.5 # ERROR: Incorrect attribute value type
  }
  verify { # ERROR: Duplicate verify block
    http = "http://${instance.address}/version"
  }
}
