service "a" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18001"] }
  strategy "rolling" {
    batch = 0 # ERROR: Invalid batch
  }
  deploy { command = ["true"] }
}
service "b" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18002"] }
  strategy "rolling" {
    batch = "0%" # ERROR: Invalid batch
  }
  deploy { command = ["true"] }
}
service "c" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18003"] }
  strategy "rolling" {
    batch = "150%" # ERROR: Invalid batch
  }
  deploy { command = ["true"] }
}
service "d" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18004"] }
  strategy "rolling" {
    batch = "groups" # ERROR: Invalid batch
  }
  deploy { command = ["true"] }
}
service "e" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18005"] }
  strategy "rolling" {
    batch = 1.5 # ERROR: Invalid batch
  }
  deploy { command = ["true"] }
}
service "f" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18006"] }
  strategy "rolling" {
    batch = ["group"] # ERROR: Invalid batch
  }
  deploy { command = ["true"] }
}
service "g" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18007"] }
  strategy "rolling" {
    batch = "-2" # ERROR: Invalid batch
  }
  deploy { command = ["true"] }
}
