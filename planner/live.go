package planner

import "github.com/nonstop-release/nonstop/providers"

// Live is what a refresh saw: the live model the planner diffs against.
type Live struct {
	Services map[string]*LiveService `json:"services"`
}

// LiveService is the live state of one declared service.
type LiveService struct {
	Name string `json:"name"`
	// Instances are the registry's instances by address; a declared instance missing
	// here is not registered.
	Instances map[string]providers.Instance `json:"instances"`
	// Balancers are each balancer's pool members, by balancer block name.
	Balancers map[string][]providers.Member `json:"balancers"`
	// Routes are the routes materialised on each balancer, by balancer block name.
	Routes map[string][]providers.Route `json:"routes"`
	// Gateways are the gateway routes documents, by gateway_routes block name; a
	// block whose document could not be read is missing.
	Gateways map[string]*LiveGateway `json:"gateways,omitempty"`
}
