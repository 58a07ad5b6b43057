package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nonstop-release/nonstop/internal/demo"
	"github.com/nonstop-release/nonstop/internal/testfleet"
)

const (
	service = "order-service"
	pool    = "order_backend"
	from    = "1.0.0"
	to      = "1.1.0"
)

func main() {
	nonstop := flag.String("nonstop", "bin/nonstop", "the nonstop binary to run inspect and plan with")
	rate := flag.Int("rate", 30, "requests per second on each client path")
	flag.Parse()
	if err := run(*nonstop, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run starts the fleet, releases, and stops what it started whatever happens.
func run(nonstop string, rate int) error {
	nonstop, err := filepath.Abs(nonstop)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "nonstop-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	step("Starting Polaris (the Nacos-protocol registry)")
	reg, err := testfleet.StartPolarisProcess(filepath.Join(work, "polaris"), nil)
	if err != nil {
		return err
	}
	defer reg.Stop()
	fmt.Printf("    Nacos API %s, Polaris API %s (up in %s)\n", reg.NacosAddr, reg.NativeAddr, reg.Startup.Round(time.Millisecond))

	addrs, err := freeAddrs(4)
	if err != nil {
		return err
	}
	step("Starting 4 demo-service instances at " + from + " with examples/demo/deploy.sh")
	fleet, err := testfleet.NewDemoFleet(filepath.Join(work, "fleet"), reg.NacosAddr, service)
	if err != nil {
		return err
	}
	defer fleet.Stop()
	if err := fleet.DeployAll(addrs, from); err != nil {
		return err
	}
	fmt.Printf("    group a: %s\n    group b: %s\n", strings.Join(addrs[:2], " "), strings.Join(addrs[2:], " "))

	step("Starting nginx and HAProxy in front of them")
	ngx, err := testfleet.StartEdgeNginxProcess(filepath.Join(work, "nginx"), pool, addrs)
	if err != nil {
		return err
	}
	defer ngx.Shutdown()
	hap, err := testfleet.StartHAProxyProcess(filepath.Join(work, "haproxy"), testfleet.HAProxyConfig{
		Backends:  []testfleet.HAProxyBackend{{Name: pool, Servers: addrs}},
		Frontends: []testfleet.HAProxyFrontend{{Name: "www", DefaultBackend: pool}},
	})
	if err != nil {
		return err
	}
	defer hap.Shutdown()
	fmt.Printf("    nginx http://%s/  HAProxy %s (runtime API %s)\n", ngx.Addr(), hap.URL("www"), hap.TCPURL())

	dir := filepath.Join(work, "config")
	varFile, err := writeConfig(dir, fleetVars{reg: reg, ngx: ngx, hap: hap, fleet: fleet, addrs: addrs})
	if err != nil {
		return err
	}
	for _, args := range [][]string{{"validate"}, {"inspect"}, {"plan"}} {
		step("nonstop " + args[0] + " examples/demo")
		cli := append(args, "-var-file", varFile, dir)
		if err := runCLI(ctx, nonstop, cli...); err != nil {
			return err
		}
	}
	return release(ctx, nonstop, dir, varFile, ngx, hap, reg, rate)
}

func step(s string) { fmt.Printf("\n==> %s\n", s) }

// runCLI runs the nonstop binary with its output on ours. plan exits 2 when it
// has changes (-detailed-exitcode is not passed, so only 1 is an error).
func runCLI(ctx context.Context, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nonstop %s: %v", strings.Join(args, " "), err)
	}
	return nil
}

// release runs `nonstop apply -auto-approve` while the three client paths run,
// printing their counters every two seconds.
func release(ctx context.Context, nonstop, dir, varFile string, ngx *testfleet.Nginx, hap *testfleet.HAProxy, reg *testfleet.Polaris, rate int) error {
	step("nonstop apply -auto-approve examples/demo (" + from + " → " + to + ") while clients call the service")
	consumer, err := demo.NewConsumer(reg.NacosAddr, service, "DEFAULT_GROUP", filepath.Join(dir, "consumer"))
	if err != nil {
		return err
	}
	defer consumer.Close()
	load := demo.StartLoad(rate, rate*300,
		demo.HTTPPath("via nginx", "http://"+ngx.Addr()),
		demo.HTTPPath("via HAProxy", hap.URL("www")),
		consumer.Path("via registry"))
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				fmt.Println("    load:", oneLine(load.Snapshot()))
			}
		}
	}()
	time.Sleep(time.Second)
	started := time.Now()
	err = runCLI(ctx, nonstop, "apply", "-auto-approve", "-var-file", varFile, dir)
	fmt.Printf("    apply finished in %s\n", time.Since(started).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	close(done)
	counts := load.Stop()
	step("Requests during the release")
	failed := int64(0)
	for _, c := range counts {
		fmt.Println("   ", c)
		failed += c.Failed
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d requests failed during the release", failed)
	}
	step("nonstop history examples/demo")
	if err := runCLI(ctx, nonstop, "history", "-var-file", varFile, dir); err != nil {
		return err
	}
	fmt.Println("\nZero failed requests. Stopping the fleet.")
	return nil
}

func oneLine(cs []demo.Counts) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d ok %d failed", c.Name, c.OK, c.Failed)
	}
	return strings.Join(parts, " | ")
}
