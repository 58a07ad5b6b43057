# The smallest useful configuration: one nginx pool, no registry.
provider "nginx" "edge" {
  upstreams_file = "/tmp/nonstop-upstreams.conf"
}

service "web" {
  version = "1.0.0"

  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082", "127.0.0.1:18083", "127.0.0.1:18084"] }

  balancer "http" {
    provider = nginx.edge
    pool     = "web_backend"
  }

  strategy "rolling" {
    batch = "25%"
  }

  deploy {
    command = ["systemctl", "restart", "web@${instance.port}"]
  }
}
