service "api" {
  version = var.release
  group "a" { instances = ["127.0.0.1:${local.port + 1}"] }
  group "b" { instances = ["127.0.0.1:${local.port + 2}"] }
  balancer "http" {
    provider = nginx.edge
    pool     = "api"
  }
  strategy "blue_green" {}
  deploy { command = ["./deploy", instance.address, version] }
}
