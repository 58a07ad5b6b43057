provider "nginx" "edge" {
  upstreams_file = "/etc/nginx/conf.d/nonstop.conf"
}

provider "haproxy" "lb" {
  runtime_api = "unix:///run/haproxy/admin.sock"
}

provider "haproxy" "maps" {
  runtime_api       = "unix:///run/haproxy/admin.sock"
  routes_map        = "/etc/haproxy/routes.map"
  routes_number_map = "/etc/haproxy/numbers.map"
}

# nginx reads query parameters and cookies from $arg_NAME and $cookie_NAME.
service "on-nginx" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  balancer "edge" {
    provider = nginx.edge
    pool     = "web"
  }
  strategy "rolling" {}
  deploy { command = ["true"] }
  route "names" {
    match {
      query  = { "user-id" = { gte = 1 } } # ERROR: Comparison not supported by nginx
      cookie = { "a.b" = { lt = 10 } } # ERROR: Comparison not supported by nginx
      header = { "X_Tenant" = { lt = 10 } } # ERROR: Comparison not supported by nginx
    }
    version = "2.0.0"
  }
  route "fine" {
    match {
      query  = { id = { gte = 5000000 } }
      header = { "X-Beta" = "1" }
    }
    version = "2.0.0"
  }
}

# HAProxy's maps express one condition per route, ranges of one name must not
# overlap, and comparisons need routes_number_map.
service "on-haproxy" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18083", "127.0.0.1:18084"] }
  balancer "lb" {
    provider = haproxy.maps
    pool     = "web"
  }
  strategy "rolling" {}
  deploy { command = ["true"] }
  route "with-header" {
    match {
      query  = { id = { gte = 5000000 } } # ERROR: Route not supported by HAProxy
      header = { "X-Beta" = "1" }
    }
    version = "2.0.0"
  }
  route "two" {
    match {
      query  = { id = { gte = 5000000 } }
      cookie = { uid = { lt = 10 } } # ERROR: Route not supported by HAProxy
    }
    version = "2.0.0"
  }
  route "from-100" {
    match {
      query = { n = { gte = 100 } }
    }
    version = "2.0.0"
  }
  route "50-to-150" {
    match {
      query = { n = { gte = 50, lt = 150 } } # ERROR: Route not supported by HAProxy
    }
    version = "2.0.0"
  }
  route "below-50" {
    match {
      query = { n = { lt = 50 } }
    }
    version = "2.0.0"
  }
  route "header-tenants" {
    match {
      header = { "x-tenant" = { lt = 100 } }
    }
    version = "2.0.0"
  }
  route "header-tenants-too" {
    match {
      header = { "X-Tenant" = { gte = 99 } } # ERROR: Route not supported by HAProxy
    }
    version = "2.0.0"
  }
}

service "no-number-map" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18085", "127.0.0.1:18086"] }
  balancer "lb" {
    provider = haproxy.lb
    pool     = "web"
  }
  strategy "rolling" {}
  deploy { command = ["true"] }
  route "ids" {
    match {
      query = { id = { gte = 5000000 } } # ERROR: Route not supported by HAProxy
    }
    version = "2.0.0"
  }
}
