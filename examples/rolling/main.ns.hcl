# Rolling release of one service: group "a" first, then group "b". Each instance is
# taken out of nginx and out of the registry, drained, redeployed, health-checked,
# verified and put back before the next batch starts.
#
# Everything runs on loopback: Polaris (a Nacos-protocol registry) on 127.0.0.1:8848
# and demo instances on 127.0.0.1:18081-18084.

nonstop {
  required_version = ">= 0.1.0"
  state "local" { path = ".nonstop" }
}

variable "order_version" {
  type        = string
  default     = "1.4.2"
  description = "Release of order-service to run on every instance."
}

variable "propagation" {
  type = string
  # How long consumers may keep calling an instance after it is disabled in the
  # registry. Production configurations use "30s": Spring Cloud LoadBalancer caches
  # the instance list for 35s, Ribbon and watch-delay for 30s. On loopback the demo
  # consumers refresh every second, so 2s is enough and keeps the demo quick.
  default     = "2s"
  description = "Registry propagation delay (production: 30s)."
}

locals {
  zone_a = ["127.0.0.1:18081", "127.0.0.1:18082"]
  zone_b = ["127.0.0.1:18083", "127.0.0.1:18084"]
}

provider "nacos" "local" {
  addresses   = ["127.0.0.1:8848"]
  namespace   = "public"
  username    = env("NACOS_USERNAME")
  password    = env("NACOS_PASSWORD")
  propagation = var.propagation
  flavor      = "polaris"
}

provider "nginx" "edge" {
  # A file nonstop owns and rewrites; relative paths are resolved against this
  # directory. Include it from an nginx http block.
  upstreams_file = "nginx/upstreams.conf"
  test           = ["nginx", "-t"]
  reload         = ["nginx", "-s", "reload"]
}

service "order-service" {
  version = var.order_version

  registry {
    provider = nacos.local
    group    = "DEFAULT_GROUP"
    cluster  = "DEFAULT"
  }

  group "a" { instances = local.zone_a }
  group "b" { instances = local.zone_b }

  balancer "http" {
    provider = nginx.edge
    pool     = "order_backend"
    weight   = 1
  }

  min_available = 2

  strategy "rolling" {
    batch = "group"
  }

  drain {
    timeout = "30s"
  }

  deploy {
    command = ["./deploy.sh", instance.host, tostring(instance.port), version]
    env     = { SERVICE = service.name }
    timeout = "2m"
  }

  health {
    http     = "http://${instance.address}/health"
    expect   = 200
    interval = "500ms"
    timeout  = "30s"
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }

  on_failure = "rollback"
}
