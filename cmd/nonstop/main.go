package main

import (
	"os"

	"github.com/nonstop-release/nonstop/cmd/nonstop/command"
)

func main() {
	os.Exit(command.Main(os.Args[1:], command.OSStreams()))
}
