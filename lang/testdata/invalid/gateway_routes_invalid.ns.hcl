provider "nacos" "prod" {
  addresses = ["127.0.0.1:8848"]
}
provider "nginx" "edge" {
  upstreams_file = "/tmp/a.conf"
}
service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  gateway_routes "spring" {
    provider = nacos.prod
    data_id  = "web.routes.json"
    group    = "GATEWAY"
  }
  gateway_routes "spring" { # ERROR: Duplicate gateway_routes block
    provider = nacos.prod
    data_id  = "web.other.json"
  }
  gateway_routes "lb" {
    provider = nginx.edge # ERROR: Incompatible provider
    data_id  = "web.json"
  }
  gateway_routes "names" {
    provider = nacos.prod
    data_id  = "web routes.json" # ERROR: Invalid configuration name
    group    = "" # ERROR: Empty argument
  }
  gateway_routes "noid" { # ERROR: Missing required argument
    provider = nacos.prod
  }
  gateway_routes "undeclared" {
    provider = nacos.staging # ERROR: Reference to undeclared provider
    data_id  = "web.json"
  }
}
service "api" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18083"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  gateway_routes "spring" { # ERROR: Duplicate gateway routes document
    provider = nacos.prod
    data_id  = "web.routes.json"
    group    = "GATEWAY"
  }
}
