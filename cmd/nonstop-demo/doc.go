// Command nonstop-demo is `make demo`: four releases of one service on a loopback
// fleet, each under the same steady load, with the real nonstop binary.
//
// Set-up: nginx and HAProxy are installed with apt-get when missing and the demo
// runs as root (otherwise it prints the command and exits 1 before starting
// anything), and Polaris is built with scripts/polaris.sh when missing. Then it
// starts, on free 127.0.0.1 ports, Polaris (a Nacos-protocol registry), nginx,
// HAProxy with active checks and four demo-service instances at 1.0.0 in groups a
// and b, which start like real applications (a 3 s start-up delay before the port
// opens, a 1 s warm-up answering 503). Once every client path sees the whole fleet
// it runs `nonstop validate`, `inspect` and `plan` on examples/demo, and starts
// the clients: through nginx, through HAProxy, and a registry consumer calling
// instances directly, each request on a new connection, never retried.
//
// The phases, applied with `nonstop apply -auto-approve` on examples/demo (its
// strategy block replaced for phases 2 and 3):
//
//  1. rolling 1.0.0 → 1.1.0, group by group;
//  2. blue-green to 1.2.0 with keep_standby, then the previous version again: the
//     standby still runs it, so the plan has no deploy step (the demo shows the
//     plan and says so);
//  3. canary to 1.3.0 on the standby group, 25% and 50% steps, a header route for
//     beta testers on nginx and HAProxy, and an analysis gate that queries the
//     demo's own endpoint for the clients' error rate;
//  4. 1.4.0, which fails its health check, rolled back automatically.
//
// Each phase prints the requests and failures of every path with p50/p99 latency
// (and the idle p99 before it), the members each path routed to (sampled every
// 100 ms), and the apply's wall time against the physical minimum: per group
// deployed, the propagation wait (when it served) and the measured time from its
// deploy's start until HAProxy's checks have it UP; plus the canary's pauses; for
// the failed release, the health timeout and the rollback's confirm; plus, per
// group, the time the registry took to serve nonstop's writes (its registry steps
// return once a listing shows them; Polaris refreshes listings every second). A summary
// table ends the run; it exits 1 if a request of the three paths failed. Ctrl-C
// stops nonstop (SIGINT), the instances, nginx, HAProxy and Polaris.
//
// With -example NAME (`make demo EXAMPLE=NAME`) it runs examples/NAME as written
// on a fleet shaped for it (its service, registry group, groups and balancers),
// passing the fleet's addresses with -var-file, and applies the example's default
// version under load.
//
// Usage:
//
//	nonstop-demo [-nonstop bin/nonstop] [-example NAME] [-rate 50] [-verbose]
//	    [-start-delay 3s] [-warmup 1s] [-nginx PATH] [-haproxy PATH]
package main
