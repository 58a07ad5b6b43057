provider "f5" "dc1" {
  url                  = "bigip.example.internal" # ERROR: Invalid URL
  insecure_skip_verify = "maybe" # ERROR: Incorrect attribute value type
}

provider "aliyun_slb" "web" {
  region   = "" # ERROR: Empty argument
  endpoint = "ftp://127.0.0.1" # ERROR: Invalid URL
}

provider "aliyun_alb" "ws" { # ERROR: Missing required argument
  access_key_id = "id"
}
