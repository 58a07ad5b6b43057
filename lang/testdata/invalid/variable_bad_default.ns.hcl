variable "replicas" {
  type    = number
  default = "three" # ERROR: Incorrect attribute value type
}

variable "hosts" {
  type    = list(string)
  default = "127.0.0.1" # ERROR: Incorrect attribute value type
}
