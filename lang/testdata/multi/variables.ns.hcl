variable "release" {
  type = string
}

locals {
  port = 18180
}
