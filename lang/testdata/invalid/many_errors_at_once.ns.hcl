variable "v" { # ERROR: Required variable not set
}

provider "nginx" "edge" {
  upstreams_file = 1
  test           = ["nginx", "-t"]
  relod          = ["nginx", "-s", "reload"] # ERROR: Unsupported argument
}

service "a" {
  version = var.v
  group "g" { instances = ["127.0.0.1:1", "127.0.0.1:1"] } # ERROR: Duplicate instance address
  strategy "rolling" {
    batch = "half" # ERROR: Invalid batch
  }
  deploy { command = ["true"] }
  balancer "b" {
    provider = nginx.edge
    pool     = "p"
    weight   = -3 # ERROR: Invalid weight
  }
  on_failure = "ignore" # ERROR: Invalid on_failure
}

service "b" { # ERROR: Missing strategy block
  version = "2"
  group "g" { instances = ["127.0.0.1:2"] }
  deploy { command = [instance.nme] } # ERROR: Unsupported attribute
  depends_on = [service.c] # ERROR: Reference to undeclared service
}
