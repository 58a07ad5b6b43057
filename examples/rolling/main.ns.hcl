# Rolling release of one service: group "a" first, then group "b". Each instance is
# taken out of nginx and out of the registry, drained, redeployed, health-checked,
# verified and put back before the next batch starts.
#
# Run it on the demo fleet (Polaris, nginx and four demo-service instances on free
# loopback ports, clients calling through nginx and through the registry):
#
#     make demo EXAMPLE=rolling
#
# The variables default to a conventional local setup (Polaris on 127.0.0.1:8848,
# instances on 127.0.0.1:18081-18084); `make demo` passes the fleet's addresses
# with -var-file.

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
  # the instance list for 35s, Ribbon and watch-delay for 30s. The demo's consumers
  # re-read their list every second, and the registry's push takes up to a second
  # or two more (2.2s measured), so the demo needs 4s.
  default     = "4s"
  description = "Registry propagation delay (production: 30s)."
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

variable "upstreams_file" {
  type        = string
  default     = "nginx/upstreams.conf"
  description = "The nginx upstreams file nonstop owns (relative to this directory)."
}

variable "nginx_test" {
  type    = list(string)
  default = ["nginx", "-t"]
}

variable "nginx_reload" {
  type    = list(string)
  default = ["nginx", "-s", "reload"]
}

variable "group_a" {
  type    = list(string)
  default = ["127.0.0.1:18081", "127.0.0.1:18082"]
}

variable "group_b" {
  type    = list(string)
  default = ["127.0.0.1:18083", "127.0.0.1:18084"]
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
  username        = env("NACOS_USERNAME")
  password        = env("NACOS_PASSWORD")
  propagation     = var.propagation
  flavor          = "polaris"
}

provider "nginx" "edge" {
  # A file nonstop owns and rewrites; relative paths are resolved against this
  # directory. Include it from an nginx http block.
  upstreams_file = var.upstreams_file
  test           = var.nginx_test
  reload         = var.nginx_reload
}

service "order-service" {
  version = var.order_version

  registry {
    provider = nacos.local
    group    = "DEFAULT_GROUP"
    cluster  = "DEFAULT"
  }

  group "a" { instances = var.group_a }
  group "b" { instances = var.group_b }

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
    env     = merge({ SERVICE = service.name }, var.deploy_env)
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
