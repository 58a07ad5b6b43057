# Blue-green release behind HAProxy: the idle group is deployed and verified while
# the live group keeps all the traffic, then traffic swaps in one step. The old
# group stays registered and warm at weight 0 (keep_standby) so that a rollback is
# one more swap, with no deploy.
#
# Run it on the demo fleet (Polaris, HAProxy with active checks and four
# demo-service instances on free loopback ports, clients calling through HAProxy
# and through the registry):
#
#     make demo EXAMPLE=blue-green
#
# The variables default to a conventional local setup (Polaris on 127.0.0.1:8848,
# HAProxy's runtime API on tcp://127.0.0.1:9999 — a "stats socket
# ipv4@127.0.0.1:9999 level admin" line in haproxy.cfg — and instances on
# 127.0.0.1:18091-18094); `make demo` passes the fleet's addresses with -var-file.

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
  # (Spring Cloud LoadBalancer 35s, Ribbon 30s). The demo's consumers re-read
  # their list every second, and the registry's push takes up to a second or two
  # more (2.2s measured), so the demo needs 4s.
  default = "4s"
}

variable "nacos" {
  type        = string
  default     = "127.0.0.1:8848"
  description = "The registry's Nacos HTTP address (gRPC is this port + 1000)."
}

variable "polaris" {
  type        = string
  default     = "127.0.0.1:8090"
  description = "Polaris' own HTTP API, where disabled instances are listed."
}

variable "haproxy_api" {
  type    = string
  default = "tcp://127.0.0.1:9999"
}

variable "group_blue" {
  type    = list(string)
  default = ["127.0.0.1:18091", "127.0.0.1:18092"]
}

variable "group_green" {
  type    = list(string)
  default = ["127.0.0.1:18093", "127.0.0.1:18094"]
}

variable "deploy_env" {
  type        = map(string)
  default     = {}
  description = "More environment for deploy.sh: `make demo` sets NONSTOP_DEPLOY_HOOK and the demo fleet's settings."
}

provider "nacos" "local" {
  addresses       = [var.nacos]
  polaris_address = var.polaris
  namespace       = "public"
  password        = env("NACOS_PASSWORD")
  propagation     = var.propagation
  flavor          = "polaris"
}

provider "haproxy" "lb" {
  runtime_api = var.haproxy_api
}

service "payment-service" {
  version = var.payment_version

  registry {
    provider = nacos.local
  }

  group "blue" { instances = var.group_blue }
  group "green" { instances = var.group_green }

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
    env     = merge({ SERVICE = service.name }, var.deploy_env)
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
