service "web" {
  version == "1.0.0" # ERROR: Argument or block definition required
}
