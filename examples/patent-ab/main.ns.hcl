# The patent search system: one service on two servers, A and B, reached through
# two load balancers at once, nginx for HTTP and HAProxy for websocket sessions.
# A release is blue-green across the A/B groups: B is deployed and verified while A
# serves, traffic swaps on both balancers together, and A stays warm at weight 0
# (keep_standby) for an instant rollback.
#
# Run it on the demo fleet (Polaris, nginx, HAProxy with active checks and four
# demo-service instances on free loopback ports, clients calling through both
# balancers and through the registry):
#
#     make demo EXAMPLE=patent-ab
#
# The variables default to a conventional local setup (Polaris on 127.0.0.1:8848,
# nginx's upstreams file in ./nginx, HAProxy's runtime API on tcp://127.0.0.1:9999,
# instances on 127.0.0.1:18081-18084); `make demo` passes the fleet's with
# -var-file.

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
  # LoadBalancer caches the instance list for 35s (Ribbon: 30s). The demo's
  # consumers re-read their list every second, and the registry's push takes up
  # to a second or two more (2.2s measured), so the demo needs 4s.
  default = "4s"
}

variable "health_path" {
  type        = string
  default     = "/actuator/health"
  description = "The servers' health endpoint (Spring Boot's; the demo-service answers /health)."
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

variable "haproxy_api" {
  type    = string
  default = "tcp://127.0.0.1:9999"
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

provider "nginx" "http" {
  upstreams_file = var.upstreams_file
  test           = var.nginx_test
  reload         = var.nginx_reload
}

provider "haproxy" "ws" {
  runtime_api = var.haproxy_api
}

service "patent-search" {
  version = var.patent_version

  registry {
    provider = nacos.local
    group    = "PATENT"
  }

  group "a" { instances = var.group_a }
  group "b" { instances = var.group_b }

  balancer "http" {
    provider = nginx.http
    pool     = "patent_http"
  }

  # Websocket sessions do not end by themselves: a drain waits for them up to
  # drain.timeout, then HAProxy closes what is left on the drained servers only
  # (`shutdown sessions server`), and the clients reconnect to serving ones.
  balancer "websocket" {
    provider   = haproxy.ws
    pool       = "patent_ws"
    weight     = 100
    long_lived = true
  }

  min_available = 2

  strategy "blue_green" {
    keep_standby = true
  }

  drain {
    # Websocket clients get up to 10 minutes to leave on their own before
    # HAProxy closes their sessions (long_lived above).
    timeout = "10m"
  }

  deploy {
    command = ["./deploy.sh", instance.host, tostring(instance.port), version]
    env     = merge({ SERVICE = service.name }, var.deploy_env)
    timeout = "5m"
  }

  health {
    http     = "http://${instance.address}${var.health_path}"
    interval = "1s"
    timeout  = "2m"
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }

  on_failure = "rollback"
}
