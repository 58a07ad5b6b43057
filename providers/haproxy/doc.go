// Package haproxy is the balancer and route provider for HAProxy, driven through
// its runtime API (the stats socket at level admin) without reloads.
//
//	provider "haproxy" "lb" {
//	  runtime_api   = "unix:///run/haproxy/admin.sock"   # or "tcp://127.0.0.1:9999"
//	  routes_map    = "/etc/haproxy/nonstop-routes.map"     # header routes (optional)
//	  routes_ip_map = "/etc/haproxy/nonstop-routes-ip.map"  # client-IP routes (optional)
//	  timeout       = "5s"                                  # per runtime API command
//	}
//
// A pool is a backend; its members are its servers, matched by address
// (srv_addr:srv_port, or the declared host name and port), whatever they are named.
// Pool makes two calls, `show servers state` and `show stat`, so Member.Sessions is
// the server's scur. Writes are `set server B/S weight N` and `set server B/S state
// ready|drain|maint`; HAProxy cannot force a server down, so StateDown is refused.
// HAProxy's own error text is passed through.
//
// Runtime changes live in memory: a reload or restart of HAProxy goes back to
// haproxy.cfg and the map files (use `server-state-file` to keep weights and states;
// `nonstop drift` shows what a reload undid).
//
// # Routes
//
// HAProxy cannot create backends at runtime, so a route R of pool P needs a backend
// P__R declared with the pool's servers. PutRoute puts the route's members in ready
// state there and the other servers in maint, then points map entries at P__R, with
// the version after a "|" (the frontend keeps only the backend with field(1,|)):
//
//   - a header route (exactly one header) is a routes_map entry
//     "P/Header-Name=value" → "P__R|VERSION", header name in canonical form;
//   - a client-IP route is one routes_ip_map entry per CIDR → "P__R|VERSION".
//
// A route matching both a client IP and a header, or several headers, cannot be
// expressed with these maps and is an error. Header routes are tried before
// client-IP routes. The frontend in front of pool order_backend, with a route on
// header X-Canary:
//
//	frontend www
//	    bind :80
//	    http-request set-var(txn.ns_x_canary) req.hdr(X-Canary)
//	    http-request set-var(txn.ns_key) str(order_backend/X-Canary=),concat(,txn.ns_x_canary,)
//	    use_backend %[var(txn.ns_key),map_str(/etc/haproxy/nonstop-routes.map),field(1,|)] if { var(txn.ns_key),map_str(/etc/haproxy/nonstop-routes.map) -m found }
//	    use_backend %[src,map_ip(/etc/haproxy/nonstop-routes-ip.map),field(1,|)] if { src,map_ip(/etc/haproxy/nonstop-routes-ip.map),field(1,|) -m beg order_backend__ }
//	    default_backend order_backend
//
//	backend order_backend
//	    server a 10.0.0.1:8080
//	    server b 10.0.0.2:8080
//	backend order_backend__beta-testers      # one per route, with the same servers
//	    server a 10.0.0.1:8080
//	    server b 10.0.0.2:8080
//
// Map entries made at runtime are not written to the map files; keep the files
// empty (or in step) so a reload does not resurrect old routes. Drain and maint on
// the pool do not reach its route backends: change or delete a route before
// deploying its members.
//
// # Serving
//
// HAProxy routes to a server only while its own checks have it running, whatever
// the runtime API's admin state says. Pool reports the admin state as Member.State
// (ready, drain, maint) and the operational state of `show servers state` as
// Member.Health: up while running (or starting), down while stopped (checks failed,
// or fewer than rise have passed since it came back); HealthDetail is `show stat`'s
// status and check status ("DOWN 1/2 L7STS"). Checks keep running in drain but stop
// in maint. The kind confirms serving: a restarted member gets a wait.serving.
package haproxy
