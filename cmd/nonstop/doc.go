// Command nonstop makes zero-downtime releases of VM services behind load balancers
// and a Nacos registry, reviewable like Terraform: validate, plan, apply, drift.
//
// main stays thin: every command lives in package command.
package main
