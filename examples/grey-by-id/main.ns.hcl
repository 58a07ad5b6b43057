# Grey release by a request attribute: a data migration sends new records to the
# new version by their id. Requests whose query parameter `id` is 5000000 or more
# go to 2.0.0; the rest stay on 1.9.0 while the migration runs.
#
# order-service runs 1.9.0 on groups a and b behind nginx and HAProxy. The release
# is a dark canary: group a is drained, moved to 2.0.0 and verified; the route
# "new-records" then sends every request with an id of 5000000 or more to it on
# both balancers, while group a stays out of the pools and the registry (a canary
# step of weight 0), so every other request stays on 1.9.0; the apply holds
# (pause = "manual") for as long as the migration runs.
# `nonstop resume STEP_ID` ends the hold: group a takes its full share, group b
# follows, and the route covers all four instances. Once the migration is over,
# delete the route block and apply again: one route.delete per balancer.
#
# The variables default to a conventional local setup (Polaris on 127.0.0.1:8848,
# nginx's upstreams file in ./nginx, HAProxy's runtime API on tcp://127.0.0.1:9999
# with its number map in /etc/haproxy, instances on 127.0.0.1:18081-18084).

nonstop {
  required_version = ">= 0.1.0"
  state "local" { path = ".nonstop" }
}

variable "order_version" {
  type        = string
  default     = "2.0.0"
  description = "The release that serves the new records (the instances run 1.9.0 before it)."
}

variable "new_records_from" {
  type        = number
  default     = 5000000
  description = "The first id of the new records: requests with an id at least this go to order_version."
}

variable "migration_hold" {
  type        = string
  default     = "manual"
  description = "How long group a serves the new records before group b follows: \"manual\" holds until `nonstop resume`, or a duration."
}

variable "propagation" {
  type = string
  # Production: "30s" (consumers cache instance lists for 30-35s). Local consumers
  # that re-read their list every second need 4s.
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

variable "haproxy_routes_number_map" {
  type        = string
  default     = "/etc/haproxy/nonstop-numbers.map"
  description = "The map file haproxy.cfg reads with map_reg for numeric routes (see README.md)."
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
  description = "More environment for deploy.sh: NONSTOP_DEPLOY_HOOK and the demo fleet's settings on a test fleet."
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

provider "haproxy" "lb" {
  runtime_api       = var.haproxy_api
  routes_number_map = var.haproxy_routes_number_map
}

service "order-service" {
  version = var.order_version

  registry {
    provider = nacos.local
  }

  # Group a is the canary: it runs the new version first and serves the new records.
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

  min_available = 2

  strategy "canary" {
    # Weight 0: group a gets only the requests the route sends it.
    step {
      weight = 0
      pause  = var.migration_hold
    }
    step { weight = 100 }
  }

  drain {
    timeout = "30s"
  }

  deploy {
    command = ["./deploy.sh", instance.host, tostring(instance.port), version]
    env     = merge({ SERVICE = service.name }, var.deploy_env)
    timeout = "5m"
  }

  health {
    http     = "http://${instance.address}/health"
    interval = "1s"
    timeout  = "2m"
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }

  # New records by id: ?id=5000000 and above (leading zeros allowed, 0005000000
  # too) go to the new version; a missing id, an empty one or one that is not
  # decimal digits ("5e6", "-1", "%35") never matches. The same comparison on a
  # header or a cookie:
  #
  #   header = { "X-Record-Id" = { gte = var.new_records_from } }
  #   cookie = { record_id = { gte = var.new_records_from } }
  #
  # or a range, e.g. one block of tenants: { gte = 100, lt = 200 }. HAProxy takes
  # one condition per route (no client_ip or header value beside the comparison).
  route "new-records" {
    match {
      query = { id = { gte = var.new_records_from } }
    }
    version = var.order_version
  }

  on_failure = "rollback"
}
