// Package nginx is the balancer and route provider for open-source nginx, driven
// through one upstreams file that nonstop owns, tests with `nginx -t` and reloads.
//
//	provider "nginx" "edge" {
//	  upstreams_file = "/etc/nginx/conf.d/nonstop.conf"   # owned and rewritten by nonstop
//	  test           = ["nginx", "-t"]                    # must pass before any reload
//	  reload         = ["nginx", "-s", "reload"]
//	}
//
// # The file
//
// For every pool the file holds `upstream POOL { server ADDR weight=N; ... }` and a
// map that sets the variable $nonstop_POOL to the upstream a request must go to.
// Server blocks proxy through that variable, never to the upstream by name, so that
// routes can take effect:
//
//	http {
//	    include /etc/nginx/conf.d/nonstop.conf;
//	    server {
//	        listen 80;
//	        location / {
//	            proxy_pass http://$nonstop_order_backend;
//	            proxy_next_upstream error timeout;   # or off
//	        }
//	    }
//	}
//
// In variable names, characters other than letters, digits and "_" become "_".
//
// Member states: nginx knows only weight=N (N ≥ 1) and `down`. A ready member with a
// weight writes `weight=N`; a member in drain, maint or down, or with weight 0, is
// written `down`, and a comment `# nonstop: state=drain weight=0` keeps what nginx
// cannot express. Reading the file back takes the directives as the truth: a weight
// or a `down` edited by hand is seen as such, and the comment only says which kind of
// `down` a down member is.
//
// Routes: a route R of pool P is an upstream P__R holding the route's members (they
// mirror their pool state: drain, maint or down there takes them out of the route;
// a pool weight of 0 does not), a `geo` block on the client address for
// client_ip, a `map` per header (exact, case-sensitive value), a map that ANDs them,
// and an entry in the $nonstop_P map. Routes are tried in name order; the first whose
// conditions all hold wins. The route's version lives in a `# nonstop:route` comment.
//
// # Writes
//
// Every write is a read-modify-write of the file: it is written atomically (temporary
// file and rename), the test command must pass, and then the reload command runs. If
// the test fails, the previous file is put back, nginx is not reloaded and the error
// carries nginx's own message. Nginx implements providers.Batcher, so several writes
// cost one test and one reload. A member or pool missing from the file is added by a
// write (seeding); EnsurePool adds several members at once.
//
// # Limits
//
// Open-source nginx has no per-member connection counts, so Member.Sessions is nil;
// a drain relies on the propagation wait and on nginx's graceful worker shutdown on
// reload, which lets old workers finish their in-flight requests. The file is the
// live state: Pool reads it, not the running nginx — except after a process died
// between writing the file and reloading (kill -9 of an apply): a pending marker
// (".FILE.pending", beside the file) then still matches the file, and Pool reports
// the copy of the last completed reload (".FILE.applied"), which nginx still
// serves; the next write of any value reloads. `nginx -s reload` returns once the
// signal is sent: the master switches workers shortly after.
//
// # Serving
//
// Open-source nginx has no active health checks (those are nginx Plus'
// health_check): it routes to a member as soon as the reload that added it has
// completed, and the write returns only after that reload. Member.Health is
// therefore HealthUnknown, the kind does not confirm serving, and plans have no
// wait.serving for nginx members: nonstop's own wait.healthy and verify are the
// gates. Passive checks (max_fails) only react to failed requests.
package nginx
