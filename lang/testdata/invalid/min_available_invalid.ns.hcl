service "a" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18001", "127.0.0.1:18002"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  min_available = 2 # ERROR: Invalid min_available
}
service "b" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18003", "127.0.0.1:18004"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  min_available = -1 # ERROR: Invalid min_available
}
service "c" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18005", "127.0.0.1:18006"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  min_available = "one" # ERROR: Incorrect attribute value type
}
