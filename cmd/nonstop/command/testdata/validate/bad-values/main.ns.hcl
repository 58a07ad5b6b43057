provider "nginx" "edge" {
  upstreams_file = "upstreams.conf"
}

service "web" {
  version = "1.0.0"

  group "a" { instances = ["127.0.0.1:99999"] } # ERROR: port out of range

  balancer "http" {
    provider = nginx.edge
    pool     = "web"
    weight   = -1 # ERROR: negative weight
  }

  strategy "rolling" {
    batch = "lots" # ERROR: not a batch size
  }

  deploy {
    command = ["true"]
    timeout = "soon" # ERROR: not a duration
  }

  health {
    http = "http://${instance.address}/health"
  }

  on_failure = "panic" # ERROR: not rollback or pause
}
