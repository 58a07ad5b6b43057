provider "nacos" "local" {
  addresses   = ["127.0.0.1:8848"]
  username    = "nacos"
  password    = env("NACOS_PASSWORD")
  propagation = "1s"
  flavor      = env("NACOS_PASSWORD") # ERROR: the wrong variable, echoed in the error
}

service "order-service" {
  version = "1.4.2"

  registry {
    provider = nacos.local
  }

  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }

  strategy "rolling" {
    batch = 1
  }

  deploy {
    command = ["true"]
  }

  health {
    http = "http://${instance.address}/health"
  }
}
