provider "nginx" "edge" {
  upstreams_file = "/tmp/a.conf"
}

provider "nginx" "edge" { # ERROR: Duplicate provider
  upstreams_file = "/tmp/b.conf"
}
