variable "base" {
  default = "1.0.0"
}

variable "release" {
  default     = var.base # ERROR: Variables not allowed
  description = upper("x") # ERROR: Function calls not allowed
  sensitive   = "perhaps" # ERROR: Incorrect attribute value type
}
