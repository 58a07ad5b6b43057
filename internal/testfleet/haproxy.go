package testfleet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// HAProxyBinary is the HAProxy executable the fleet runs.
var HAProxyBinary = "/usr/sbin/haproxy"

// HAProxyConfig configures StartHAProxy.
type HAProxyConfig struct {
	Backends  []HAProxyBackend
	Frontends []HAProxyFrontend
}

// HAProxyBackend is a backend with one server line per address. Servers are named
// "node1", "node2", ... in order: nonstop must match them by address, not by name.
type HAProxyBackend struct {
	Name    string
	Servers []string
}

// HAProxyFrontend is an HTTP frontend on its own free port.
type HAProxyFrontend struct {
	Name           string
	DefaultBackend string
	// Rules are config lines placed before default_backend; "{dir}" in them is
	// replaced by the instance directory, where routes.map and routes-ip.map live.
	Rules []string
}

// HAProxy is a running HAProxy with an admin runtime API on a unix socket and on a
// loopback TCP port, `retries 0` and no `option redispatch`, so a request reaches
// exactly the server HAProxy picked.
type HAProxy struct {
	Dir        string
	ConfFile   string
	SocketPath string
	APIPort    int
	// RoutesMap and RoutesIPMap are empty map files, ready for frontend rules.
	RoutesMap   string
	RoutesIPMap string
	// Ports holds each frontend's port by name.
	Ports map[string]int

	cmd  *exec.Cmd
	done chan struct{}
}

// StartHAProxy writes a config for cfg, starts HAProxy in the foreground and waits
// until its frontends and runtime API listen; t.Cleanup stops it.
func StartHAProxy(t testing.TB, cfg HAProxyConfig) *HAProxy {
	t.Helper()
	dir := t.TempDir()
	h := &HAProxy{
		Dir:         dir,
		ConfFile:    filepath.Join(dir, "haproxy.cfg"),
		SocketPath:  filepath.Join(dir, "admin.sock"),
		RoutesMap:   filepath.Join(dir, "routes.map"),
		RoutesIPMap: filepath.Join(dir, "routes-ip.map"),
		Ports:       map[string]int{},
		done:        make(chan struct{}),
	}
	var err error
	if h.APIPort, err = FreePort(); err != nil {
		t.Fatalf("free port: %v", err)
	}
	for _, fe := range cfg.Frontends {
		if h.Ports[fe.Name], err = FreePort(); err != nil {
			t.Fatalf("free port: %v", err)
		}
	}
	for _, f := range []string{h.RoutesMap, h.RoutesIPMap} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(h.ConfFile, []byte(h.render(cfg)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := h.Run("-c"); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, h.render(cfg))
	}
	logFile, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	h.cmd = exec.Command(HAProxyBinary, "-db", "-f", h.ConfFile)
	h.cmd.Stdout, h.cmd.Stderr = logFile, logFile
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	go func() { _ = h.cmd.Wait(); logFile.Close(); close(h.done) }()
	t.Cleanup(func() { stopProcessGroup(h.cmd, h.done) })
	addrs := []string{h.APIAddr()}
	for _, p := range h.Ports {
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(p))
	}
	for _, a := range addrs {
		if err := WaitTCP(a, 10*time.Second); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "haproxy.log"))
			t.Fatalf("haproxy did not start: %v\n%s", err, log)
		}
	}
	return h
}

// APIAddr returns the host:port of the TCP runtime API.
func (h *HAProxy) APIAddr() string { return "127.0.0.1:" + strconv.Itoa(h.APIPort) }

// SocketURL returns the unix runtime API as a provider's runtime_api value.
func (h *HAProxy) SocketURL() string { return "unix://" + h.SocketPath }

// TCPURL returns the TCP runtime API as a provider's runtime_api value.
func (h *HAProxy) TCPURL() string { return "tcp://" + h.APIAddr() }

// URL returns the base URL of a frontend.
func (h *HAProxy) URL(frontend string) string {
	return "http://127.0.0.1:" + strconv.Itoa(h.Ports[frontend]) + "/"
}

// Run runs haproxy against this instance's config with extra args (e.g. "-c") and
// returns its combined output.
func (h *HAProxy) Run(extra ...string) ([]byte, error) {
	args := append([]string{"-f", h.ConfFile}, extra...)
	return exec.Command(HAProxyBinary, args...).CombinedOutput()
}

func (h *HAProxy) render(cfg HAProxyConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global\n    stats socket %s mode 600 level admin\n", h.SocketPath)
	fmt.Fprintf(&b, "    stats socket ipv4@%s level admin\n", h.APIAddr())
	b.WriteString("defaults\n    mode http\n    retries 0\n    timeout connect 2s\n")
	b.WriteString("    timeout client 30s\n    timeout server 30s\n")
	for _, fe := range cfg.Frontends {
		fmt.Fprintf(&b, "frontend %s\n    bind 127.0.0.1:%d\n", fe.Name, h.Ports[fe.Name])
		for _, r := range fe.Rules {
			fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(r, "{dir}", h.Dir))
		}
		fmt.Fprintf(&b, "    default_backend %s\n", fe.DefaultBackend)
	}
	for _, be := range cfg.Backends {
		fmt.Fprintf(&b, "backend %s\n", be.Name)
		for i, addr := range be.Servers {
			fmt.Fprintf(&b, "    server node%d %s\n", i+1, addr)
		}
	}
	return b.String()
}
