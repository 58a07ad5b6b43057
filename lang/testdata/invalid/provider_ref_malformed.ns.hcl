service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  balancer "quoted" {
    provider = "nginx.edge" # ERROR: Invalid provider reference
    pool     = "web"
  }
  balancer "kind" {
    provider = consul.edge # ERROR: Invalid provider reference
    pool     = "web"
  }
  balancer "long" {
    provider = nginx.edge.extra # ERROR: Invalid provider reference
    pool     = "web"
  }
}
