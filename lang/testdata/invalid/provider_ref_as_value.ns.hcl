provider "nacos" "prod" {
  addresses = ["127.0.0.1:8848"]
}
service "web" {
  version = nacos.prod # ERROR: Invalid reference
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
