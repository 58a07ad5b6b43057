service "a" {
  version = "1.0.0"
  group "x" { instances = ["127.0.0.1:18001", "127.0.0.1:18002"] }
  group "y" {
    instances = [
      "127.0.0.1:18002", # ERROR: Duplicate instance address
      "127.0.0.1:18003",
    ]
  }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
service "b" {
  version = "1.0.0"
  group "x" { instances = ["127.0.0.1:18004", "127.0.0.1:18003"] } # ERROR: Duplicate instance address
  strategy "rolling" {}
  deploy { command = ["true"] }
}
