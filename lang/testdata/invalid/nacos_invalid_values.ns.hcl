provider "nacos" "prod" {
  addresses = [
    "127.0.0.1", # ERROR: Invalid address
    "127.0.0.1:8848",
    "127.0.0.1:0", # ERROR: Invalid address
  ]
  flavor          = "consul" # ERROR: Invalid flavor
  propagation     = "2h" # ERROR: Duration out of range
  timeout         = "five seconds" # ERROR: Invalid duration
  polaris_address = "localhost" # ERROR: Invalid address
}
