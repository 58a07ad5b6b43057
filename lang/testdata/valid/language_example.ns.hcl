nonstop {
  required_version = ">= 0.1.0"

  # Where nonstop keeps its state (applied commit, release history, apply journal) and
  # takes its lock. Embedded default when absent: state "local" { path = ".nonstop" }.
  state "local" { path = ".nonstop" }
  # state "postgres" { dsn = env("NONSTOP_PG_DSN") }            # advisory lock, shared by CI runners
  # (a Nacos-config backend with a CAS lease may follow; see nacos-server.md for why not yet)
}

variable "order_version" {
  type        = string
  default     = "1.4.2"
  description = "Release of order-service to run everywhere."
}

locals {
  zone_a = ["127.0.0.1:18081", "127.0.0.1:18082"]
}

# ---- providers: the live systems nonstop reads and changes -------------------------------
provider "nacos" "prod" {
  addresses   = ["127.0.0.1:8848"]
  namespace   = "public"
  username    = env("NACOS_USERNAME")     # env() is a built-in function
  password    = env("NACOS_PASSWORD")     # sensitive: never printed in plans, logs or state
  propagation = "30s"                     # time for consumers' caches to drop a disabled instance
  flavor      = "nacos"                   # "nacos" | "polaris": which API lists disabled instances
}

provider "nginx" "edge" {
  upstreams_file = "/etc/nginx/conf.d/nonstop.conf"   # a file nonstop owns and rewrites
  test           = ["nginx", "-t"]                    # must pass before any reload
  reload         = ["nginx", "-s", "reload"]
}

provider "haproxy" "lb" {
  runtime_api = "unix:///run/haproxy/admin.sock"      # or "tcp://127.0.0.1:9999"
}

provider "f5" "dc1" {
  url       = "https://bigip.example.internal"
  username  = env("F5_USERNAME")
  password  = env("F5_PASSWORD")
  partition = "Common"
}

provider "aliyun_slb" "web" {           # Classic Load Balancer (SLB); "aliyun_alb" likewise
  region            = "cn-shanghai"
  access_key_id     = env("ALIBABA_CLOUD_ACCESS_KEY_ID")
  access_key_secret = env("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
}

# ---- services: the desired state ---------------------------------------------------------
service "order-service" {
  version = var.order_version               # the one desired version of every instance

  registry {                                # where the service is registered
    provider = nacos.prod
    group    = "DEFAULT_GROUP"              # Nacos group name
    cluster  = "DEFAULT"
  }

  group "a" { instances = local.zone_a }    # A/B groups (seed: servers A and B)
  group "b" { instances = ["127.0.0.1:18083", "127.0.0.1:18084"] }

  balancer "http" {                         # an LB pool in front of the instances;
    provider = nginx.edge                   # several balancers are allowed (SLB http + ALB websocket)
    pool     = "order_backend"              # nginx upstream / HAProxy backend / F5 pool / SLB vserver group
    weight   = 1                            # weight of a serving member (default: the LB's own default);
  }                                         # members are matched by address, whatever the LB names them

  min_available = 1                         # serving instances that must remain at every step

  strategy "rolling" {                      # exactly one strategy block:
    batch = "group"                         #   rolling: by group (A then B), or a number / "25%"
  }
  # strategy "blue_green" {                 #   deploy to the idle group, verify, swap all traffic,
  #   keep_standby = true                   #   keep the old group warm at weight 0 for instant rollback
  # }
  # strategy "canary" {                     #   first group gets the new version, traffic moves in steps
  #   step { weight = 5   pause = "2m" }
  #   step { weight = 50  pause = "5m"  analysis = ["error-rate"] }
  #   step { weight = 100 }
  # }

  drain {
    propagation = "30s"                     # overrides the registry provider's value
    timeout     = "5m"                      # longest wait for in-flight requests to finish
  }

  deploy {                                  # how an instance is moved to a version
    command = ["./deploy.sh", instance.host, tostring(instance.port), version]
    env     = { SERVICE = service.name }
    timeout = "10m"
  }

  health {                                  # must pass before an instance takes traffic again
    http     = "http://${instance.address}/health"
    expect   = 200
    interval = "1s"
    timeout  = "60s"
  }

  verify {                                  # direct-connection smoke test on a drained instance
    http     = "http://${instance.address}/version"
    contains = version
  }

  analysis "error-rate" {                   # a gate evaluated during canary steps
    http      = "http://127.0.0.1:9090/api/v1/query?query=..."   # e.g. Prometheus
    max_value = 0.01
    no_data   = "fail"                      # "fail" | "pass" | "pause"
  }

  route "beta-testers" {                    # versioned routing (seed: by client IP / header)
    match {
      client_ip = ["10.8.0.0/16"]
      header    = { "X-Canary" = "1" }
    }
    version = "1.5.0-rc1"                   # requests matching go to instances of this version
  }

  depends_on = [service.user-service]       # release order across services (base services first)
  on_failure = "rollback"                   # "rollback" | "pause"
}

# user-service exists so that order-service's depends_on resolves.
service "user-service" {
  version = "2.0.0"

  registry {
    provider = nacos.prod
  }

  group "a" { instances = ["127.0.0.1:19081"] }

  strategy "rolling" {
    batch = 1
  }

  deploy {
    command = ["./deploy.sh", instance.address, version]
  }
}
