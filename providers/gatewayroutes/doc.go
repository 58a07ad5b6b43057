// Package gatewayroutes writes and reads the gateway routes document: a service's
// routes and the share of other traffic each of its versions gets, as one JSON
// document ("format": "nonstop.gateway-routes/v1") that nonstop publishes to a
// configuration center for gateways that route by version (Spring Cloud Gateway,
// a Nepxion-style gray filter). The serialisation is canonical, so an unchanged
// configuration yields the same bytes and the same MD5.
package gatewayroutes
