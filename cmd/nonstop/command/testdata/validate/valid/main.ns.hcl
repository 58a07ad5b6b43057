provider "nacos" "local" {
  addresses   = ["127.0.0.1:8848"]
  propagation = "1s"
  flavor      = "polaris"
}

provider "nginx" "edge" {
  upstreams_file = "upstreams.conf"
}

service "order-service" {
  version = "1.4.2"

  registry {
    provider = nacos.local
  }

  group "a" { instances = ["127.0.0.1:18081"] }
  group "b" { instances = ["127.0.0.1:18082"] }

  balancer "http" {
    provider = nginx.edge
    pool     = "order_backend"
  }

  strategy "rolling" {
    batch = "group"
  }

  deploy {
    command = ["true", instance.host, version]
  }

  health {
    http = "http://${instance.address}/health"
  }
}
