provider "haproxy" "a" {
  runtime_api = "/run/haproxy/admin.sock" # ERROR: Invalid runtime_api
}

provider "haproxy" "b" {
  runtime_api = "tcp://127.0.0.1" # ERROR: Invalid runtime_api
  timeout     = "0s" # ERROR: Duration out of range
}

provider "haproxy" "c" {
  runtime_api = "unix:///run/haproxy/admin.sock"
  timeout     = "-5s" # ERROR: Invalid duration
}
