# A registry outage expired every registration (the instances still run 1.5.0
# and serve nginx and HAProxy). The repair redeploys them group by group: the
# pools keep serving what the registry lost.
provider "nacos" "prod" {
  addresses   = ["127.0.0.1:8848"]
  propagation = "2s"
}

provider "nginx" "edge" {
  upstreams_file = "/tmp/nonstop-test/upstreams.conf"
}

provider "haproxy" "lb" {
  runtime_api = "tcp://127.0.0.1:9999"
}

service "order-service" {
  version = "1.5.0"

  registry {
    provider = nacos.prod
  }

  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  group "b" { instances = ["127.0.0.1:18083", "127.0.0.1:18084"] }

  balancer "http" {
    provider = nginx.edge
    pool     = "order_backend"
    weight   = 1
  }

  balancer "tcp" {
    provider = haproxy.lb
    pool     = "order_tcp"
  }

  strategy "rolling" {
    batch = "group"
  }

  drain {
    timeout = "30s"
  }

  deploy {
    command = ["./deploy.sh", instance.address, version]
  }

  health {
    http = "http://${instance.address}/health"
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }
}
