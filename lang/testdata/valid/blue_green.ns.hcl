provider "f5" "dc1" {
  url                  = "https://bigip.example.internal"
  username             = "admin"
  password             = env("NONSTOP_TEST_UNSET_F5_PASSWORD", "f5-default-pass")
  insecure_skip_verify = true
}

provider "aliyun_slb" "web" {
  region            = "cn-shanghai"
  access_key_id     = "LTAI-test-id"
  access_key_secret = "test-secret"
  endpoint          = "http://127.0.0.1:18000"
}

provider "aliyun_alb" "ws" {
  region = "cn-hangzhou"
}

service "shop" {
  version = "3.1.0"

  group "blue" { instances = ["127.0.0.1:18091", "[::1]:18092"] }
  group "green" { instances = ["127.0.0.1:18093", "127.0.0.1:18094"] }

  balancer "f5" {
    provider = f5.dc1
    pool     = "shop_pool"
  }

  balancer "slb" {
    provider = aliyun_slb.web
    pool     = "rsp-123"
    weight   = 0
  }

  balancer "alb" {
    provider = aliyun_alb.ws
    pool     = "sgp-456"
  }

  strategy "blue_green" {
    keep_standby = true
  }

  drain {
    propagation = "10s"
    in_flight   = "3s"
  }

  deploy {
    command = split(" ", "deploy --host ${instance.host} --version ${version}")
  }

  route "beta" {
    match {
      header = { "X-Beta" = "yes" }
    }
    version = "3.2.0-beta"
  }

  depends_on = [service.catalog]
}

service "catalog" {
  version = "1.0.0"

  group "only" { instances = ["127.0.0.1:18095", "127.0.0.1:18096"] }

  strategy "rolling" {
    batch = 1
  }

  deploy {
    command = ["true"]
  }
}
