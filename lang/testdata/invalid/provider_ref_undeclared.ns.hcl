provider "nginx" "edge" {
  upstreams_file = "/tmp/a.conf"
}
service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  balancer "http" {
    provider = nginx.edg # ERROR: Reference to undeclared provider
    pool     = "web"
  }
}
