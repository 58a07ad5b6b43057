// Command nonstop-demo is `make demo`: it starts a loopback fleet (Polaris, nginx,
// HAProxy and four demo-service instances at 1.0.0), runs `nonstop inspect` and
// `nonstop plan` on examples/demo with the fleet's ports, applies the rolling
// release to 1.1.0 while clients call the service through nginx, through HAProxy
// and through the registry, prints the counters, and stops everything.
//
// Usage:
//
//	nonstop-demo [-nonstop bin/nonstop] [-rate 30]
package main
