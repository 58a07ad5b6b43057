# Grey release by a request attribute: new records (ids from 5,000,000) go to
# 2.0.0, everything else stays on 1.9.0; numeric routes on nginx and HAProxy.

variable "first_new_id" {
  type    = number
  default = 5000000
}

provider "nginx" "edge" {
  upstreams_file = "/etc/nginx/conf.d/nonstop.conf"
}

provider "haproxy" "lb" {
  runtime_api       = "unix:///run/haproxy/admin.sock"
  routes_map        = "/etc/haproxy/nonstop-routes.map"
  routes_number_map = "/etc/haproxy/nonstop-numbers.map"
}

service "orders" {
  version = "1.9.0"

  group "a" { instances = ["10.0.0.1:8080", "10.0.0.2:8080"] }
  group "b" { instances = ["10.0.0.3:8080", "10.0.0.4:8080"] }

  balancer "edge" {
    provider = nginx.edge
    pool     = "orders"
  }
  balancer "lb" {
    provider = haproxy.lb
    pool     = "orders"
  }

  strategy "rolling" {}
  deploy { command = ["./deploy.sh", instance.address, version] }

  route "new-records" {
    match {
      query = { id = { gte = var.first_new_id } }
    }
    version = "2.0.0"
  }

  route "early-records" {
    match {
      query = {
        id = {
          gt  = 0
          lte = 999
        }
      }
    }
    version = "1.8.0"
  }

  route "tenants" {
    match {
      header = { "X-Tenant-Id" = { gte = 100, lt = 200 } }
    }
    version = "2.0.0"
  }
}

service "accounts" {
  version = "3.1.0"

  group "a" { instances = ["10.0.1.1:8080"] }
  group "b" { instances = ["10.0.1.2:8080"] }

  balancer "edge" {
    provider = nginx.edge
    pool     = "accounts"
  }

  strategy "blue_green" {}
  deploy { command = ["./deploy.sh", instance.address, version] }

  # nginx combines conditions: the beta header and a cookie range, by client IP.
  route "beta-low-uids" {
    match {
      client_ip = ["10.8.0.0/16"]
      header    = { "X-Beta" = "1", "X-Shard" = { lt = "8" } }
      cookie    = { uid = { gte = 1000, lt = 2000 } }
    }
    version = "3.2.0-rc1"
  }
}
