# Gateway routes: order-service sits behind a Spring Cloud Gateway (or any gateway
# with a Nepxion-style gray filter) that picks instances from the Nacos registry
# and reads its routing rules from the Nacos configuration center. nonstop
# publishes the service's routes and the share of other traffic each version
# gets as one JSON document (docs/gateway-routes.md), data id
# order-service.routes.json in group GATEWAY, and moves it with the release:
# during the canary each step's split (10% then 50% to the new version), then
# 100% at promotion. A document edited by hand since the plan read it is never
# overwritten: apply refuses and says so.
#
# Validate and plan it without any live system for validate:
#
#     bin/nonstop validate examples/gateway-routes
#     bin/nonstop plan examples/gateway-routes      # needs Polaris/Nacos reachable
#
# The variables default to a conventional local setup (Polaris on 127.0.0.1:8848,
# instances on 127.0.0.1:18201-18204).

nonstop {
  required_version = ">= 0.1.0"
  state "local" { path = ".nonstop" }
}

variable "order_version" {
  type    = string
  default = "2.1.0"
}

variable "beta_version" {
  type        = string
  default     = "2.1.0"
  description = "The version beta testers and tenants under 100 are routed to."
}

variable "nacos" {
  type        = string
  default     = "127.0.0.1:8848"
  description = "The Nacos HTTP address (gRPC is this port + 1000)."
}

variable "polaris" {
  type        = string
  default     = "127.0.0.1:8090"
  description = "Polaris' own HTTP API, where disabled instances are listed."
}

variable "flavor" {
  type        = string
  default     = "polaris"
  description = "\"nacos\" for Nacos 2.x (atomic compare-and-swap publishes), \"polaris\" for Polaris."
}

variable "step_pause" {
  type    = string
  default = "10s"
}

provider "nacos" "local" {
  addresses       = [var.nacos]
  polaris_address = var.polaris
  propagation     = "4s"
  flavor          = var.flavor
}

service "order-service" {
  version = var.order_version

  registry {
    provider = nacos.local
  }

  group "a" { instances = ["127.0.0.1:18201", "127.0.0.1:18202"] }
  group "b" { instances = ["127.0.0.1:18203", "127.0.0.1:18204"] }

  strategy "canary" {
    step {
      weight = 10
      pause  = var.step_pause
    }
    step {
      weight = 50
      pause  = var.step_pause
    }
    step { weight = 100 }
  }

  deploy {
    command = ["./deploy.sh", instance.host, tostring(instance.port), version]
  }

  health {
    http = "http://${instance.address}/health"
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }

  route "beta-testers" {
    match {
      client_ip = ["10.8.0.0/16"]
      header    = { "X-Canary" = "1" }
    }
    version = var.beta_version
  }

  route "small-tenants" {
    match {
      header = { "X-Tenant-Id" = { lt = 100 } }
    }
    version = var.beta_version
  }

  gateway_routes "spring" {
    provider = nacos.local
    data_id  = "order-service.routes.json"
    group    = "GATEWAY"
  }
}
