# The two-tier fleet of the A/B patent: an Alibaba Cloud SLB in front of a gateway
# node group, the gateways in front of the patent search servers, which they find
# in the Nacos registry. Both tiers are A/B groups and both are released A/B, as the
# patent prescribes, one group at a time:
#
#   1. group A's weight goes to 0 on the SLB (B keeps 100) — gateways only;
#   2. group A goes offline in Nacos, so consumers stop picking it;
#   3. nonstop waits the propagation (30 s: consumers' caches), then for the
#      requests in flight (drain.in_flight, 10 s: neither the SLB nor the
#      registry's consumers count them; a balancer that does, HAProxy or F5,
#      also until its sessions end);
#   4. A is redeployed, health-checked and verified on a direct connection, the
#      SLB's own checks confirm it, it goes back online and back to weight 100;
#   5. then group B, the same way.
#
# Order of the tiers: the search servers first (patent-gateway depends_on
# patent-search), then the gateways. The gateway is the search servers' consumer:
# releasing its provider first means that a new gateway, which may call what only
# the new servers offer, never meets an old server, and that while the servers
# roll every gateway is a warm, long-running consumer whose list follows the
# registry within a second; while the gateways roll the servers are stable, so a
# gateway starting up resolves only instances that serve. Releasing both tiers at
# once would halve both tiers' capacity at the same moment.
#
# Run it on the demo fleet (Polaris, HAProxy with active checks standing in for
# the SLB, four gateways and four search servers on free loopback ports, clients
# calling through the front balancer and through the registry):
#
#     go test ./internal/e2e -run GatewayTier -v
#
# `make demo` cannot run it yet: its fleet holds one service behind nginx/HAProxy.

nonstop {
  required_version = ">= 0.1.0"
  state "local" { path = ".nonstop" }
}

variable "search_version" {
  type        = string
  default     = "5.2.0"
  description = "Release of the patent search servers (the application tier)."
}

variable "gateway_version" {
  type        = string
  default     = "2.4.0"
  description = "Release of the gateway nodes (the gateway tier)."
}

variable "propagation" {
  type = string
  # Production: "30s". The gateways are Spring Cloud Gateway nodes whose
  # LoadBalancer caches the search servers' list (35 s by default, 30 s with
  # Ribbon). The demo-service's gateway re-selects every second, so tests need 4s.
  default = "30s"
}

variable "in_flight" {
  type = string
  # Production: "10s", longer than any request a gateway or a search server
  # holds, given once an instance has left the SLB and every consumer's list.
  # Tests shorten it with the propagation.
  default = "10s"
}

variable "health_path" {
  type        = string
  default     = "/actuator/health"
  description = "The nodes' health endpoint (Spring Boot's; the demo-service answers /health)."
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

variable "slb_region" {
  type    = string
  default = "cn-shanghai"
}

variable "slb_vserver_group" {
  type        = string
  default     = "rsp-gateway"
  description = "The SLB vServer group of the gateway nodes (rsp-...)."
}

variable "gateway_a" {
  type    = list(string)
  default = ["10.0.1.11:8080", "10.0.1.12:8080"]
}

variable "gateway_b" {
  type    = list(string)
  default = ["10.0.2.11:8080", "10.0.2.12:8080"]
}

variable "search_a" {
  type    = list(string)
  default = ["10.0.1.21:8080", "10.0.1.22:8080"]
}

variable "search_b" {
  type    = list(string)
  default = ["10.0.2.21:8080", "10.0.2.22:8080"]
}

variable "deploy_env" {
  type        = map(string)
  default     = {}
  description = "More environment for deploy.sh: the demo fleet sets NONSTOP_DEPLOY_HOOK and its settings."
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

# The SLB in front of the gateways. The tests and the demo fleet stand in HAProxy
# with active checks for it (provider "haproxy" "edge").
provider "aliyun_slb" "edge" {
  region            = var.slb_region
  access_key_id     = env("ALIBABA_CLOUD_ACCESS_KEY_ID")
  access_key_secret = env("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
}

# The application tier: reached only through the gateways, which find it in Nacos.
service "patent-search" {
  version = var.search_version

  registry {
    provider = nacos.local
  }

  group "a" { instances = var.search_a }
  group "b" { instances = var.search_b }

  min_available = 2

  strategy "rolling" {
    batch = "group"
  }

  drain {
    in_flight = var.in_flight
    timeout   = "5m"
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

# The gateway tier: behind the SLB, registered in Nacos like any Spring Cloud app.
service "patent-gateway" {
  version = var.gateway_version

  registry {
    provider = nacos.local
  }

  group "a" { instances = var.gateway_a }
  group "b" { instances = var.gateway_b }

  balancer "slb" {
    provider = aliyun_slb.edge
    pool     = var.slb_vserver_group
    weight   = 100
  }

  min_available = 2

  strategy "rolling" {
    batch = "group"
  }

  drain {
    in_flight = var.in_flight
    timeout   = "5m"
  }

  deploy {
    command = ["./deploy.sh", instance.host, tostring(instance.port), version]
    # NONSTOP_DEMO_GATEWAY_TO makes the demo-service a gateway to the search
    # servers; a real gateway's deploy ignores it.
    env     = merge({ SERVICE = service.name, NONSTOP_DEMO_GATEWAY_TO = "patent-search" }, var.deploy_env)
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

  depends_on = [service.patent-search]
  on_failure = "rollback"
}
