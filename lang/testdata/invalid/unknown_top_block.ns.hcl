servce "web" { # ERROR: Unsupported block type
  version = "1.0.0"
}
