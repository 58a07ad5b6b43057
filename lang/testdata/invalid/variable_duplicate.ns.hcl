variable "release" {
  default = "1.0.0"
}

variable "release" { # ERROR: Duplicate variable declaration
  default = "2.0.0"
}
