// Package e2e proves nonstop's zero-downtime claim end to end: each test releases a
// service on a real loopback fleet (Polaris as the Nacos registry, nginx, HAProxy
// and four demo-service instances moved by examples/demo/deploy.sh) through
// operation.Apply — what `nonstop apply -auto-approve` runs: lock, refresh, plan,
// apply with a journal, history in the local state — while clients call it through
// nginx, through HAProxy and through the registry, and asserts that not one request
// failed.
//
// Every test with its own fleet runs in parallel with the others (two at a time
// by default, -parallel); the two that freeze the package's one Polaris
// (TestRegistryOutageExpiresRegistrations, TestRegistryFrozenMidRelease) are not
// parallel, so Go runs them first, alone.
//
// The package has no non-test code; the fleet and the load come from
// internal/testfleet and internal/demo.
package e2e
