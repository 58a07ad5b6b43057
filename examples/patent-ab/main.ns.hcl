# The patent search system: one service on two servers, A and B, reached through
# two load balancers at once, nginx for HTTP and HAProxy for websocket sessions.
# A release is blue-green across the A/B groups: B is deployed and verified while A
# serves, traffic swaps on both balancers together, and A stays warm at weight 0
# (keep_standby) for an instant rollback.
#
# Loopback only: Polaris on 127.0.0.1:8848, nginx's upstreams file in ./nginx,
# HAProxy's runtime API on tcp://127.0.0.1:9999, instances on 127.0.0.1:18081-18084.

nonstop {
  required_version = ">= 0.1.0"
  state "local" { path = ".nonstop" }
}

variable "patent_version" {
  type        = string
  default     = "5.2.0"
  description = "Release of the patent search service."
}

variable "propagation" {
  type = string
  # Production: "30s", because the search front-ends are Spring Cloud apps whose
  # LoadBalancer caches the instance list for 35s (Ribbon: 30s). On loopback the
  # demo consumers refresh every second, so 2s is enough.
  default = "2s"
}

locals {
  server_a = ["127.0.0.1:18081", "127.0.0.1:18082"]
  server_b = ["127.0.0.1:18083", "127.0.0.1:18084"]
}

provider "nacos" "local" {
  addresses   = ["127.0.0.1:8848"]
  namespace   = "public"
  username    = env("NACOS_USERNAME")
  password    = env("NACOS_PASSWORD")
  propagation = var.propagation
  flavor      = "polaris"
}

provider "nginx" "http" {
  upstreams_file = "nginx/upstreams.conf"
  test           = ["nginx", "-t"]
  reload         = ["nginx", "-s", "reload"]
}

provider "haproxy" "ws" {
  runtime_api = "tcp://127.0.0.1:9999"
}

service "patent-search" {
  version = var.patent_version

  registry {
    provider = nacos.local
    group    = "PATENT"
  }

  group "a" { instances = local.server_a }
  group "b" { instances = local.server_b }

  balancer "http" {
    provider = nginx.http
    pool     = "patent_http"
  }

  balancer "websocket" {
    provider = haproxy.ws
    pool     = "patent_ws"
    weight   = 100
  }

  min_available = 2

  strategy "blue_green" {
    keep_standby = true
  }

  drain {
    # Websocket sessions are long: wait up to 10 minutes for them to close.
    timeout = "10m"
  }

  deploy {
    command = ["./deploy.sh", instance.host, tostring(instance.port), version]
    env     = { SERVICE = service.name }
    timeout = "5m"
  }

  health {
    http     = "http://${instance.address}/actuator/health"
    interval = "1s"
    timeout  = "2m"
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }

  on_failure = "rollback"
}
