provider "nacos" "prod" {
  addresses = [] # ERROR: Empty argument
  namespace = 42
  username  = ["admin"] # ERROR: Incorrect attribute value type
}
