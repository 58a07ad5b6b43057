provider "nginx" "edge one" { # ERROR: Invalid provider name
  upstreams_file = "/tmp/a.conf"
}
