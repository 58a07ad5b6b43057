service "web" { # ERROR: Unclosed configuration block
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:1"] }
