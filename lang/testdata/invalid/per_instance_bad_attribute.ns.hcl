service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy {
    command = ["deploy", instance.hostname] # ERROR: Unsupported attribute
    env     = ["not", "a", "map"] # ERROR: Incorrect attribute value type
  }
  health {
    http = "http://${instance.address}/health?svc=${service.id}" # ERROR: Unsupported attribute
  }
  verify {
    http     = "http://${instance.address}/version"
    contains = instance # ERROR: Incorrect attribute value type
  }
}
