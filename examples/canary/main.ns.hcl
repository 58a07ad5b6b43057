# Canary release: group "canary" gets the new version first and its share of the
# traffic grows in steps (5%, 25%, 100%), each held for a pause and gated by an
# error-rate query; then groups "east" and "west" follow one after the other.
# Beta testers (a client network and an X-Canary header) are routed to the new
# version as soon as the canary serves it.
#
# Run it on the demo fleet (Polaris, nginx and four demo-service instances on free
# loopback ports, clients calling through nginx and through the registry, and an
# analysis endpoint standing in for Prometheus that returns the clients' error
# rate):
#
#     make demo EXAMPLE=canary
#
# The variables default to a conventional local setup (Polaris on 127.0.0.1:8848,
# nginx's upstreams file in ./nginx, instances on 127.0.0.1:18101-18105,
# Prometheus on 127.0.0.1:9090); `make demo` passes the fleet's with -var-file.

nonstop {
  required_version = ">= 0.1.0"
  state "local" { path = ".nonstop" }
}

variable "search_version" {
  type    = string
  default = "3.1.0"
}

variable "propagation" {
  type = string
  # Production: "30s" (consumers cache instance lists for 30-35s). The demo's
  # consumers re-read their list every second, and the registry's push takes up
  # to a second or two more (2.2s measured), so the demo needs 4s.
  default = "4s"
}

variable "step_pause" {
  type        = string
  default     = "10s"
  description = "Hold time of each canary step (minutes in production)."
}

variable "analysis_url" {
  type        = string
  default     = "http://127.0.0.1:9090/api/v1/query"
  description = "A Prometheus query endpoint; the query is appended."
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

variable "group_canary" {
  type    = list(string)
  default = ["127.0.0.1:18101"]
}

variable "group_east" {
  type    = list(string)
  default = ["127.0.0.1:18102", "127.0.0.1:18103"]
}

variable "group_west" {
  type    = list(string)
  default = ["127.0.0.1:18104", "127.0.0.1:18105"]
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
  propagation     = var.propagation
  flavor          = "polaris"
}

provider "nginx" "edge" {
  upstreams_file = var.upstreams_file
  test           = var.nginx_test
  reload         = var.nginx_reload
}

service "search-service" {
  version = var.search_version

  registry {
    provider = nacos.local
    group    = "SEARCH"
  }

  group "canary" { instances = var.group_canary }
  # After the canary, the other groups follow one at a time: with two groups of
  # two, three instances serve while one group is redeployed (min_available = 2).
  group "east" { instances = var.group_east }
  group "west" { instances = var.group_west }

  balancer "http" {
    provider = nginx.edge
    pool     = "search_backend"
  }

  min_available = 2

  strategy "canary" {
    step {
      weight = 5
      pause  = var.step_pause
    }
    step {
      weight   = 25
      pause    = var.step_pause
      analysis = ["error-rate"]
    }
    step { weight = 100 }
  }

  deploy {
    command = ["./deploy.sh", instance.host, tostring(instance.port), version]
    env     = merge({ SERVICE = service.name }, var.deploy_env)
  }

  health {
    http = "http://${instance.address}/health"
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }

  analysis "error-rate" {
    http      = "${var.analysis_url}?query=sum(rate(http_errors_total[1m]))"
    max_value = 0.01
    no_data   = "pause"
  }

  route "beta-testers" {
    match {
      client_ip = ["127.0.0.0/8"]
      header    = { "X-Canary" = "1" }
    }
    version = var.search_version
  }

  on_failure = "pause"
}
