provider "nginx" "edge" {
  upstreams_file = "/tmp/nonstop-multi.conf"
}
