service "web" {
  version = "1.0.0"
  group "a" {
    instances = [
      "127.0.0.1", # ERROR: Invalid address
      "127.0.0.1:99999", # ERROR: Invalid address
      ":8080", # ERROR: Invalid address
      "127.0.0.1:http", # ERROR: Invalid address
      "127.0.0.1:18081",
      null, # ERROR: Incorrect attribute value type
    ]
  }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
