service "a" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18001"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  depends_on = [service.b]
}
service "b" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18002"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  depends_on = [service.c]
}
service "c" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18003"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  depends_on = [service.a] # ERROR: Circular dependency between services
}
service "d" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18004"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  depends_on = [service.a, service.d] # ERROR: Circular dependency between services
}
