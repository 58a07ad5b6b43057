service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  drain {
    timeout   = "20s"
    in_flight = "30s" # ERROR: In-flight wait longer than the drain timeout
  }
}

service "api" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18083", "127.0.0.1:18084"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  drain {
    in_flight = "10 seconds" # ERROR: Invalid duration
  }
}

service "jobs" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18085", "127.0.0.1:18086"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  drain {
    in_flight = "6m" # ERROR: In-flight wait longer than the drain timeout
  }
}

service "feed" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18087", "127.0.0.1:18088"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  drain {
    in_flight = 10 # ERROR: Invalid duration
  }
}
