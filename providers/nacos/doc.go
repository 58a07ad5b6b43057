// Package nacos is the provider of kind "nacos": it reads and changes service
// instances in a Nacos registry (enabled flag, weight, metadata version) and keeps
// configuration documents in Nacos config, speaking the Nacos HTTP API as real Nacos
// 2.x and PolarisMesh's Nacos-compatible server serve it.
//
// Two flavors differ in how disabled instances are listed, because every API a Nacos
// client uses hides them:
//
//   - flavor "nacos" lists with the console API GET /nacos/v1/ns/catalog/instances,
//     which shows disabled instances with their metadata, and writes with
//     PUT /nacos/v1/ns/instance (every field sent, metadata preserved);
//   - flavor "polaris" lists with Polaris' client discovery API POST /v1/Discover
//     (one call, served from its cache), which shows isolated instances with their
//     metadata, version included, and writes with Polaris' PUT /naming/v1/instances,
//     because the Nacos-compatible write marks the instance unhealthy for good on
//     Polaris v1.18.1. (Its console listing GET /naming/v1/instances hides the
//     version and reads the store, ~50 ms a call at 10,000 instances.)
//
// See the design note nacos-server.md and docs/design-notes.md for the facts
// behind these choices.
package nacos
