variable "release" {
  default = "1.0.0"
  validation = true # ERROR: Unsupported argument
}

variable "bad name!" { # ERROR: Invalid variable name
  default = 1
}
