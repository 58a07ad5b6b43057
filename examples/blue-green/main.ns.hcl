# Blue-green release behind HAProxy: the idle group is deployed and verified while
# the live group keeps all the traffic, then traffic swaps in one step. The old
# group stays registered and warm at weight 0 (keep_standby) so that a rollback is
# one more swap, with no deploy.
#
# Loopback only: Polaris on 127.0.0.1:8848, HAProxy's runtime API on
# tcp://127.0.0.1:9999 (a "stats socket ipv4@127.0.0.1:9999 level admin" line in
# haproxy.cfg), instances on 127.0.0.1:18091-18094.

nonstop {
  required_version = ">= 0.1.0"
  state "local" { path = ".nonstop" }
}

variable "payment_version" {
  type    = string
  default = "2.0.0"
}

variable "propagation" {
  type = string
  # Production: "30s", the longest time a consumer caches the instance list
  # (Spring Cloud LoadBalancer 35s, Ribbon 30s). Loopback demo consumers refresh
  # every second, so 2s is enough here.
  default = "2s"
}

provider "nacos" "local" {
  addresses   = ["127.0.0.1:8848"]
  namespace   = "public"
  password    = env("NACOS_PASSWORD")
  propagation = var.propagation
  flavor      = "polaris"
}

provider "haproxy" "lb" {
  runtime_api = "tcp://127.0.0.1:9999"
}

service "payment-service" {
  version = var.payment_version

  registry {
    provider = nacos.local
  }

  group "blue" { instances = ["127.0.0.1:18091", "127.0.0.1:18092"] }
  group "green" { instances = ["127.0.0.1:18093", "127.0.0.1:18094"] }

  balancer "http" {
    provider = haproxy.lb
    pool     = "payment_backend"
    weight   = 100
  }

  min_available = 2

  strategy "blue_green" {
    keep_standby = true
  }

  drain {
    timeout = "1m"
  }

  deploy {
    command = ["./deploy.sh", instance.host, tostring(instance.port), version]
    env     = { SERVICE = service.name }
  }

  health {
    http     = "http://${instance.address}/health"
    interval = "500ms"
    timeout  = "30s"
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }

  on_failure = "rollback"
}
