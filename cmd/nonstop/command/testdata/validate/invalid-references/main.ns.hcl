provider "nacos" "local" {
  addresses = ["127.0.0.1:8848"]
}

provider "nginx" "edge" {
  upstreams_file = "upstreams.conf"
}

service "order-service" {
  version = var.order_version # ERROR: undeclared variable

  registry {
    provider = nacos.prod # ERROR: no such provider
  }

  group "a" { instances = ["127.0.0.1:18081"] }

  balancer "http" {
    provider = ngin.edge # ERROR: misspelt provider
    pool     = "order_backend"
  }

  strategy "rolling" {
    batch = "group"
  }

  deploy {
    command = ["true"]
  }

  health {
    http = "http://${instance.address}/health"
  }
}
