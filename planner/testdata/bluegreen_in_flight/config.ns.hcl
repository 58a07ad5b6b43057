provider "nacos" "prod" {
  addresses   = ["127.0.0.1:8848"]
  propagation = "2s"
}

# An SLB counts no sessions and the registry's consumers none either: with
# drain.in_flight the old group gets one wait.drain holding 5s after its
# propagation wait, before it is upgraded too (no standby kept).
provider "aliyun_slb" "web" {
  region            = "cn-shanghai"
  access_key_id     = "test"
  access_key_secret = "test"
}

service "order-service" {
  version = "1.5.0"

  registry {
    provider = nacos.prod
  }

  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  group "b" { instances = ["127.0.0.1:18083", "127.0.0.1:18084"] }

  balancer "http" {
    provider = aliyun_slb.web
    pool     = "rsp-order"
    weight   = 100
  }

  strategy "blue_green" {
    keep_standby = false
  }

  drain {
    timeout   = "30s"
    in_flight = "5s"
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
