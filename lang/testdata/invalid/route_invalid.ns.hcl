service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  route "no-match" { # ERROR: Missing match block
    version = "2.0.0"
  }
  route "empty" {
    match { # ERROR: Invalid route match
    }
    version = "2.0.0"
  }
  route "bad-ip" {
    match {
      client_ip = [
        "10.8.0.0/33", # ERROR: Invalid client_ip
        "10.8.0.1",
        "not-an-ip", # ERROR: Invalid client_ip
      ]
    }
    version = "2.0.0"
  }
  route "bad-ip" { # ERROR: Duplicate route
    match { header = { "X-Canary" = "1" } }
    version = "2.0.0"
  }
  route "no-version" { # ERROR: Missing required argument
    match { client_ip = ["10.0.0.0/8"] }
  }
  route "bad-header" {
    match {
      header = ["X-Canary"] # ERROR: Incorrect attribute value type
    }
    version = "" # ERROR: Empty argument
  }
}
