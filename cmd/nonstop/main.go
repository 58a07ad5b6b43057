// Command nonstop makes zero-downtime releases of VM services behind load balancers
// and a Nacos registry, reviewable like Terraform: validate, plan, apply, drift.
package main

import (
	"os"

	"github.com/nonstop-release/nonstop/cmd/nonstop/command"
)

func main() {
	os.Exit(command.Main(os.Args[1:], command.OSStreams()))
}
