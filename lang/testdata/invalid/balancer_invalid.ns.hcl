provider "nginx" "edge" {
  upstreams_file = "/tmp/a.conf"
}
service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  balancer "http" {
    provider = nginx.edge
    pool     = "web"
    weight   = -1 # ERROR: Invalid weight
  }
  balancer "http" { # ERROR: Duplicate balancer
    provider = nginx.edge
    pool     = "web2"
  }
  balancer "frac" {
    provider = nginx.edge
    pool     = "" # ERROR: Empty argument
    weight   = 1.5 # ERROR: Incorrect attribute value type
  }
  balancer "nopool" { # ERROR: Missing required argument
    provider = nginx.edge
  }
  balancer "ws" {
    provider   = nginx.edge
    pool       = "ws"
    long_lived = true # ERROR: Long-lived connections cannot be closed
  }
}
