package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// options are the command-line flags.
type options struct {
	nonstop    string
	example    string
	rate       int
	startDelay time.Duration
	warmup     time.Duration
	verbose    bool
	nginx      string
	haproxy    string
}

func main() {
	var o options
	flag.StringVar(&o.nonstop, "nonstop", "bin/nonstop", "the nonstop binary to run")
	flag.StringVar(&o.example, "example", "", "run examples/NAME on the demo fleet instead of the four-phase story (rolling, blue-green, canary, patent-ab)")
	flag.IntVar(&o.rate, "rate", 50, "requests per second on each client path")
	flag.DurationVar(&o.startDelay, "start-delay", 3*time.Second, "each instance's start-up delay before its port opens")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "each instance's warm-up (every request answers 503) after its port opens")
	flag.BoolVar(&o.verbose, "verbose", false, "show nonstop's whole output (every plan step, every step's start)")
	flag.StringVar(&o.nginx, "nginx", defaultBinary(fleet.NginxBinary), "the nginx binary")
	flag.StringVar(&o.haproxy, "haproxy", defaultBinary(fleet.HAProxyBinary), "the haproxy binary")
	flag.Parse()
	os.Exit(run(o))
}

// run sets up, runs the story (or an example) and stops everything it started,
// also on Ctrl-C; it returns the exit status.
func run(o options) int {
	if o.example == "demo" {
		o.example = ""
	}
	if o.example != "" {
		if _, ok := examples[o.example]; !ok {
			fmt.Fprintf(os.Stderr, "demo: no example %q; there are %s\n", o.example, exampleNames())
			return 2
		}
	}
	if o.rate < 1 {
		fmt.Fprintln(os.Stderr, "demo: -rate must be at least 1")
		return 2
	}
	nonstop, err := filepath.Abs(o.nonstop)
	if err == nil && !executable(nonstop) {
		err = fmt.Errorf("%s is not an executable (make demo builds it)", nonstop)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	o.nonstop = nonstop
	if err := prerequisites(o); err != nil {
		if !errors.Is(err, errExit1) {
			fmt.Fprintln(os.Stderr, "demo:", err)
		}
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := &runner{o: o, ctx: ctx, clean: &cleanups{}}
	defer r.clean.run()
	work, err := os.MkdirTemp("", "nonstop-demo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	r.clean.add(func() { os.RemoveAll(work) })

	// Ctrl-C: let a running nonstop stop (it got SIGINT), stop everything, exit 130.
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		fmt.Println("\n==> Interrupted: stopping nonstop, the instances, nginx, HAProxy and Polaris")
		waited := make(chan struct{})
		go func() { r.children.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(20 * time.Second):
		}
		r.clean.run()
		fmt.Println("    stopped everything the demo started")
		os.Exit(130)
	}()

	if o.example != "" {
		err = runExample(r, work, examples[o.example])
	} else {
		err = runStory(r, work)
	}
	if err != nil {
		if ctx.Err() != nil {
			select {} // the interrupt handler stops everything and exits
		}
		fmt.Fprintln(os.Stderr, "\ndemo:", err)
		return 1
	}
	return 0
}
