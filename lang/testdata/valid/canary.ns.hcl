nonstop {
  required_version = ">= 0.1.0, < 1.0.0"
  state "postgres" { dsn = "postgres://nonstop:s3cret@127.0.0.1:5432/nonstop" }
}

variable "release" {
  type        = string
  description = "The release to roll out."
  default     = "2.3.0"
}

variable "hosts" {
  type    = list(string)
  default = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
}

variable "port" {
  type    = number
  default = 8080
}

variable "api_token" {
  type      = string
  default   = "tok-123456"
  sensitive = true
}

locals {
  addresses = [for h in var.hosts : format("%s:%d", h, var.port)]
  first     = slice(local.addresses, 0, 2)
  rest      = slice(local.addresses, 2, length(local.addresses))
  office    = cidrsubnet("10.8.0.0/16", 8, 3)
  labels    = merge({ team = "payments" }, { tier = upper("gold") })
}

provider "haproxy" "lb" {
  runtime_api = "tcp://127.0.0.1:9999"
  routes_map  = "/etc/haproxy/routes.map"
  timeout     = "2s"
}

provider "nacos" "prod" {
  addresses   = ["127.0.0.1:8848", "127.0.0.2:8848"]
  namespace   = "payments"
  password    = "nacos-pass"
  propagation = "45s"
  flavor      = "polaris"
}

service "payments" {
  version = var.release

  registry {
    provider = nacos.prod
    group    = "PAY"
  }

  group "canary" { instances = local.first }
  group "main" { instances = local.rest }

  balancer "http" {
    provider = haproxy.lb
    pool     = "payments_be"
    weight   = 10
  }

  min_available = 2

  strategy "canary" {
    step {
      weight = 5
      pause  = "2m"
    }
    step {
      weight   = 50
      pause    = "manual"
      analysis = ["error-rate", "latency"]
    }
    step { weight = 100 }
  }

  drain {
    timeout = "30s"
  }

  deploy {
    command = ["ansible-playbook", "deploy.yml", "-l", instance.host, "-e", "version=${version}"]
    env     = { SERVICE = service.name, GROUP = instance.group, TOKEN = var.api_token }
    timeout = "15m"
  }

  health {
    http     = "http://${instance.address}/healthz"
    expect   = 204
    interval = "500ms"
    timeout  = "2m"
  }

  verify {
    http     = "http://${instance.host}:${instance.port}/version"
    contains = "\"version\":\"${version}\""
    timeout  = "5s"
  }

  analysis "error-rate" {
    http      = "http://127.0.0.1:9090/api/v1/query?query=errors"
    max_value = 0.01
  }

  analysis "latency" {
    http      = "http://127.0.0.1:9090/api/v1/query?query=p99"
    max_value = 250
    no_data   = "pause"
  }

  route "office" {
    match {
      client_ip = [local.office, "192.168.1.7"]
    }
    version = "2.4.0-rc1"
  }

  on_failure = "pause"
}
