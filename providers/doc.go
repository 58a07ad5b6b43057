// Package providers defines the contract between nonstop and the live systems it
// reads and changes: a registry of provider kinds, the small capability interfaces a
// provider implements as it can (Registry, Balancer, RouteStore, ConfigStore), and the
// plain live model their reads return.
//
// One package per kind lives below this one (providers/nacos, providers/nginx,
// providers/haproxy, ...). Each registers itself from an init function, like Caddy
// modules; cmd/nonstop blank-imports the kinds it ships.
package providers
