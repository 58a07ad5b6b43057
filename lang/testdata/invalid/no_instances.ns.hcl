service "empty" { # ERROR: No instances
  version = "1.0.0"
  group "a" { instances = [] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
service "nogroups" { # ERROR: No instances
  version = "1.0.0"
  
  strategy "rolling" {}
  deploy { command = ["true"] }
}
