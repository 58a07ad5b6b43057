provider "consul" "prod" { # ERROR: Invalid provider kind
  address = "127.0.0.1:8500"
}
