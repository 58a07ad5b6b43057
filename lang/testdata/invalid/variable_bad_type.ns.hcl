variable "release" {
  type    = strin # ERROR: Invalid type specification
  default = "1.0.0"
}

variable "tags" {
  type    = map(string, number) # ERROR: Invalid type specification
  default = {}
}
