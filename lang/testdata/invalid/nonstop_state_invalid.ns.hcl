nonstop {
  state "s3" { # ERROR: Invalid state backend
    bucket = "x"
  }
  state "postgres" { # ERROR: Duplicate state block
    dsn = "postgres://x"
  }
}
