locals {
  a = uppper("x") # ERROR: Call to unknown function
  b = cidrsubnet("10.0.0.0/33", 8, 1) # ERROR: Invalid function argument
  c = file("does-not-exist.txt") # ERROR: Invalid function argument
  d = env("NONSTOP_TEST_USER", "x", "y") # ERROR: Invalid function argument
  e = env("NONSTOP_TEST_USER")
  f = jsondecode("{") # ERROR: Error in function call
}
service "web" {
  version = "1.0.0-${local.e}"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
