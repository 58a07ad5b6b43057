nonstop {
  required_version = ">= banana" # ERROR: Invalid required_version
  version          = "0.1.0" # ERROR: Unsupported argument
}
