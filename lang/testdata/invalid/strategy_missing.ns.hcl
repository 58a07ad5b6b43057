service "web" { # ERROR: Missing strategy block
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  
  deploy { command = ["true"] }
}
