service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  route "values" {
    match {
      query  = { id = "5" } # ERROR: Invalid route match
      cookie = { uid = 5 } # ERROR: Invalid route match
    }
    version = "2.0.0"
  }
  route "not-a-map" {
    match {
      query = ["id"] # ERROR: Incorrect attribute value type
    }
    version = "2.0.0"
  }
  route "bounds" {
    match {
      query = {
        a = { gt3 = 5 } # ERROR: Unsupported comparison
        b = { gte = -1 } # ERROR: Invalid comparison
        c = { gte = 1.5 } # ERROR: Invalid comparison
        d = { lt = 1000000000000000000 } # ERROR: Invalid comparison
        e = { gte = "abc" } # ERROR: Incorrect attribute value type
        f = { gte = null } # ERROR: Invalid comparison
        g = { gte = 10, lt = 10 } # ERROR: Empty comparison
        h = { gt = 5, lte = 5 } # ERROR: Empty comparison
        i = {} # ERROR: Empty comparison
        j = { gt = 999999999999999999 } # ERROR: Empty comparison
        "user id" = { gte = 1 } # ERROR: Invalid route match
        k = {
          gte = 1
          gt  = 2 # ERROR: Conflicting comparison
        }
        l = { gte = 1 }
        l = { lt = 5 } # ERROR: Duplicate key
      }
    }
    version = "2.0.0"
  }
  route "headers" {
    match {
      header = {
        "X-A" = "1"
        "x-a" = { gte = 1 } # ERROR: Conflicting header match
        "X-B" = { gte = 1 }
        "x-b" = { lt = 5 } # ERROR: Duplicate key
        ""    = { lt = 5 } # ERROR: Invalid route match
      }
    }
    version = "2.0.0"
  }
}
