provider "nacos" "prod" { # ERROR: Missing required argument
  adresses = ["127.0.0.1:8848"] # ERROR: Unsupported argument
}
