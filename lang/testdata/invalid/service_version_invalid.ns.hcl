service "a" {
  version = "" # ERROR: Empty argument
  group "a" { instances = ["127.0.0.1:18001"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
service "b" {
  version = ["1.0"] # ERROR: Incorrect attribute value type
  group "a" { instances = ["127.0.0.1:18002"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
service "c" {
  version = null # ERROR: Empty argument
  group "a" { instances = ["127.0.0.1:18003"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
