nonstop {
  required_version = ">= 9.0.0" # ERROR: Unsupported nonstop version
}

nonstop { # ERROR: Duplicate nonstop block
  required_version = "~> 0.1"
}
