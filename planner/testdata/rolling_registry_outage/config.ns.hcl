# A registry outage expired three of four registrations while a release from
# 1.4.2 to 1.5.0 was under way: every instance still serves nginx and HAProxy,
# the registry hands out one. The plan repairs the lost registrations first, so
# that the registry never drops below min_available while the last is upgraded.
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

  min_available = 2

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
