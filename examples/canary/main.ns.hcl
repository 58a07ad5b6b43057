# Canary release: group "canary" gets the new version first and its share of the
# traffic grows in steps (5%, 25%, 100%), each held for a pause and gated by an
# error-rate query. Beta testers (a client network or an X-Canary header) are
# routed to the new version from the start.
#
# Loopback only: Polaris on 127.0.0.1:8848, nginx with its upstreams file in
# ./nginx, instances on 127.0.0.1:18101-18104, Prometheus on 127.0.0.1:9090.

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
  # Production: "30s" (consumers cache instance lists for 30-35s). The loopback
  # demo's consumers refresh every second; 2s keeps the demo short.
  default = "2s"
}

variable "step_pause" {
  type        = string
  default     = "10s"
  description = "Hold time of each canary step (minutes in production)."
}

provider "nacos" "local" {
  addresses   = ["127.0.0.1:8848"]
  namespace   = "public"
  propagation = var.propagation
  flavor      = "polaris"
}

provider "nginx" "edge" {
  upstreams_file = "nginx/upstreams.conf"
  test           = ["nginx", "-t"]
  reload         = ["nginx", "-s", "reload"]
}

service "search-service" {
  version = var.search_version

  registry {
    provider = nacos.local
    group    = "SEARCH"
  }

  group "canary" { instances = ["127.0.0.1:18101"] }
  group "main" { instances = ["127.0.0.1:18102", "127.0.0.1:18103", "127.0.0.1:18104"] }

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
    env     = { SERVICE = service.name }
  }

  health {
    http = "http://${instance.address}/health"
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }

  analysis "error-rate" {
    http      = "http://127.0.0.1:9090/api/v1/query?query=sum(rate(http_errors_total[1m]))"
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
