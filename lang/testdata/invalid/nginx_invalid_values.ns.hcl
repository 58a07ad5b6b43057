provider "nginx" "edge" {
  upstreams_file = "" # ERROR: Empty argument
  test           = [] # ERROR: Empty argument
  reload         = "nginx -s reload" # ERROR: Incorrect attribute value type
}
