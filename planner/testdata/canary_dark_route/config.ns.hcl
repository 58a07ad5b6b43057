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

  # A dark canary: group a runs 1.5.0 and gets only the requests the route sends
  # it (ids of new records); everything else stays on 1.4.2 until the hold is
  # resumed and the release completes.
  strategy "canary" {
    step {
      weight = 0
      pause  = "manual"
    }
    step { weight = 100 }
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

  # Grey release by a request attribute: new records by id.
  route "new-records" {
    match {
      query = { id = { gte = 5000000 } }
    }
    version = "1.5.0"
  }
}
