# The `make demo` release: order-service on four loopback instances in groups a and
# b, behind nginx and HAProxy, registered in Polaris (a Nacos-protocol registry),
# released 1.0.0 → 1.1.0 group by group with zero failed requests.
#
# `make demo` starts the fleet on free ports and passes them in with -var-file;
# deploy.sh (next to this file) restarts an instance at a version. Its later
# phases apply this file with the strategy block replaced (blue_green, canary
# with a route and an analysis gate) and print each replacement.

nonstop {
  required_version = ">= 0.1.0"
  state "local" { path = ".nonstop" }
}

variable "order_version" {
  type        = string
  default     = "1.1.0"
  description = "Release of order-service to run on every instance."
}

# Defaults are the conventional local ports; `make demo` passes the free ports it
# picked with -var-file.
variable "nacos" {
  type        = string
  default     = "127.0.0.1:8848"
  description = "The registry's Nacos HTTP address (gRPC is this port + 1000)."
}

variable "polaris" {
  type        = string
  default     = "127.0.0.1:8090"
  description = "Polaris' own HTTP API address, where isolated instances are listed."
}

variable "upstreams_file" {
  type        = string
  default     = "nonstop-upstreams.conf"
  description = "The nginx upstreams file nonstop owns."
}

variable "nginx_test" {
  type        = list(string)
  default     = ["nginx", "-t"]
  description = "The nginx command that tests the configuration."
}

variable "nginx_reload" {
  type        = list(string)
  default     = ["nginx", "-s", "reload"]
  description = "The nginx command that reloads the configuration."
}

variable "haproxy_api" {
  type        = string
  default     = "tcp://127.0.0.1:9999"
  description = "HAProxy's runtime API, tcp://host:port or unix:///path."
}

variable "group_a" {
  type    = list(string)
  default = ["127.0.0.1:18081", "127.0.0.1:18082"]
}

variable "group_b" {
  type    = list(string)
  default = ["127.0.0.1:18083", "127.0.0.1:18084"]
}

variable "fleet_dir" {
  type        = string
  default     = ".fleet"
  description = "Where deploy.sh keeps pid files and logs."
}

variable "demo_bin" {
  type        = string
  default     = "bin/demo-service"
  description = "The demo-service binary deploy.sh starts."
}

variable "haproxy_routes_map" {
  type        = string
  default     = ""
  description = "The map file haproxy.cfg reads for header routes (the canary phase's beta route)."
}

variable "haproxy_routes_ip_map" {
  type        = string
  default     = ""
  description = "The map file haproxy.cfg reads for client-IP routes."
}

variable "health_timeout" {
  type        = string
  default     = "20s"
  description = "How long a deployed instance may take to pass its health check."
}

variable "bad_versions" {
  type        = string
  default     = ""
  description = "Versions deploy.sh starts broken (their health check fails), to show a rollback."
}

provider "nacos" "registry" {
  addresses       = [var.nacos]
  polaris_address = var.polaris
  namespace       = "public"
  flavor          = "polaris"
  # Production: "30s" (Spring Cloud caches instance lists for 35s). The demo's
  # consumer re-reads its list every second.
  propagation = "4s"
}

provider "nginx" "edge" {
  upstreams_file = var.upstreams_file
  test           = var.nginx_test
  reload         = var.nginx_reload
}

provider "haproxy" "lb" {
  runtime_api   = var.haproxy_api
  routes_map    = var.haproxy_routes_map
  routes_ip_map = var.haproxy_routes_ip_map
}

service "order-service" {
  version = var.order_version

  registry {
    provider = nacos.registry
    group    = "DEFAULT_GROUP"
    cluster  = "DEFAULT"
  }

  group "a" { instances = var.group_a }
  group "b" { instances = var.group_b }

  balancer "nginx" {
    provider = nginx.edge
    pool     = "order_backend"
    weight   = 1
  }

  balancer "haproxy" {
    provider = haproxy.lb
    pool     = "order_backend"
    weight   = 1
  }

  min_available = 1

  strategy "rolling" {
    batch = "group"
  }

  drain {
    propagation = "4s"
    timeout     = "10s"
  }

  deploy {
    command = ["bash", "./deploy.sh", instance.host, tostring(instance.port), version]
    env = {
      SERVICE                   = service.name
      NONSTOP_DEMO_DIR          = var.fleet_dir
      NONSTOP_DEMO_BIN          = var.demo_bin
      NONSTOP_DEMO_NACOS        = var.nacos
      NONSTOP_DEMO_BAD_VERSIONS = var.bad_versions
    }
    timeout = "1m"
  }

  health {
    http     = "http://${instance.address}/health"
    expect   = 200
    interval = "250ms"
    timeout  = var.health_timeout
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }

  on_failure = "rollback"
}
