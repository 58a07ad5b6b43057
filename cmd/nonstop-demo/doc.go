// Command nonstop-demo is `make demo`: it starts a loopback fleet (Polaris, nginx,
// HAProxy with active health checks, and four demo-service instances at 1.0.0 that
// start like real applications: a 3 s start-up delay before the port opens, then a
// 1 s warm-up answering 503), runs `nonstop validate`, `inspect` and `plan` on
// examples/demo with the fleet's ports, and applies rolling releases (1.0.0 → 1.1.0
// → 1.2.0) while clients call the service through nginx, through HAProxy and
// through the registry.
//
// Before each release it waits until every path sees the whole fleet (the registry
// consumer lists every instance, HAProxy has every server UP by its checks). During
// it, it prints each failed request (path, member, error) as it happens and samples
// every 100 ms how many members each path really routes to. After it, it prints the
// counters, the sampled minimum per path, and the apply's wall time against the
// physical minimum, groups × (propagation + the time from an instance's deploy
// start until HAProxy has it UP again). It exits 1 if any request failed.
//
// Usage:
//
//	nonstop-demo [-nonstop bin/nonstop] [-rate 30] [-releases 2] [-start-delay 3s] [-warmup 1s]
package main
