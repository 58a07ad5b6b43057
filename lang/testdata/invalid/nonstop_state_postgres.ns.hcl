nonstop {
  state "postgres" { # ERROR: Missing required argument
    url = "postgres://x" # ERROR: Unsupported argument
  }
}
