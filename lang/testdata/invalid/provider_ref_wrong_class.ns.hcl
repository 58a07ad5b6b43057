provider "nginx" "edge" {
  upstreams_file = "/tmp/a.conf"
}

provider "nacos" "prod" {
  addresses = ["127.0.0.1:8848"]
}
service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  registry {
    provider = nginx.edge # ERROR: Incompatible provider
  }
  balancer "http" {
    provider = nacos.prod # ERROR: Incompatible provider
    pool     = "web"
  }
}
