provider "nacos" "prod" {
  addresses = ["127.0.0.1:8848"]
}
service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  registry {
    provider = nacos.prod
    group    = "" # ERROR: Empty argument
    clusters = "DEFAULT" # ERROR: Unsupported argument
  }
  registry { # ERROR: Duplicate registry block
    provider = nacos.prod
  }
}
service "other" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18003"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  registry { # ERROR: Missing required argument
    group = "G"
  }
}
