package fleet

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// HAProxyBinary is the HAProxy executable the fleet runs.
var HAProxyBinary = "/usr/sbin/haproxy"

// HAProxyConfig configures StartHAProxyProcess.
type HAProxyConfig struct {
	Backends  []HAProxyBackend
	Frontends []HAProxyFrontend
	// Checks configures the servers' active health checks, on by default.
	Checks HAProxyChecks
}

// HAProxyChecks configures active health checks: every server gets `check inter
// Inter fall Fall rise Rise` and its backend `option httpchk GET Path`. The zero
// value is DefaultHAProxyChecks.
type HAProxyChecks struct {
	// Disabled leaves the servers without checks: HAProxy then sends traffic to
	// every server in state ready whatever it answers.
	Disabled bool
	// Path is the URL checked; default "/health". A server is healthy while it
	// answers 2xx or 3xx.
	Path string
	// Inter is the time between two checks; default 1s.
	Inter time.Duration
	// Fall is how many failed checks in a row mark a server DOWN, Rise how many
	// good ones bring it back UP; defaults 2 and 2.
	Fall, Rise int
}

// DefaultHAProxyChecks is what a zero HAProxyChecks means.
var DefaultHAProxyChecks = HAProxyChecks{Path: "/health", Inter: time.Second, Fall: 2, Rise: 2}

// withDefaults fills in zero fields.
func (c HAProxyChecks) withDefaults() HAProxyChecks {
	d := DefaultHAProxyChecks
	if c.Path == "" {
		c.Path = d.Path
	}
	if c.Inter <= 0 {
		c.Inter = d.Inter
	}
	if c.Fall <= 0 {
		c.Fall = d.Fall
	}
	if c.Rise <= 0 {
		c.Rise = d.Rise
	}
	return c
}

// ConfirmTime is the longest a started server that answers its checks waits
// before HAProxy marks it UP: Rise checks Inter apart (0 when checks are off).
func (c HAProxyChecks) ConfirmTime() time.Duration {
	if c.Disabled {
		return 0
	}
	c = c.withDefaults()
	return time.Duration(c.Rise) * c.Inter
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
	// replaced by the instance directory, where routes.map, routes-ip.map and
	// routes-number.map live.
	Rules []string
}

// HAProxy is a running HAProxy with an admin runtime API on a unix socket and on a
// loopback TCP port, `retries 0` and no `option redispatch`, so a request reaches
// exactly the server HAProxy picked. Servers have active HTTP checks unless
// HAProxyConfig.Checks.Disabled. Every answer carries X-Served-By:
// "<backend>/<server>@<address>" ("<NOSRV>" when no server was picked).
type HAProxy struct {
	Dir        string
	ConfFile   string
	SocketPath string
	APIPort    int
	// RoutesMap and RoutesIPMap are empty map files, ready for frontend rules.
	RoutesMap   string
	RoutesIPMap string
	// RoutesNumberMap is an empty map file for numeric routes, which frontend
	// rules read with map_reg ("{dir}/routes-number.map").
	RoutesNumberMap string
	// Ports holds each frontend's port by name.
	Ports map[string]int
	// Config is what it was started with.
	Config HAProxyConfig

	cmd  *exec.Cmd
	done chan struct{}
}

// StartHAProxyProcess writes a config for cfg in dir (created if needed), starts
// HAProxy in the foreground in its own process group (killed if this process
// dies) and waits until its frontends and runtime API listen. The caller must call
// Shutdown.
func StartHAProxyProcess(dir string, cfg HAProxyConfig) (*HAProxy, error) {
	h := &HAProxy{
		Dir:             dir,
		ConfFile:        filepath.Join(dir, "haproxy.cfg"),
		SocketPath:      filepath.Join(dir, "admin.sock"),
		RoutesMap:       filepath.Join(dir, "routes.map"),
		RoutesIPMap:     filepath.Join(dir, "routes-ip.map"),
		RoutesNumberMap: filepath.Join(dir, "routes-number.map"),
		Ports:           map[string]int{},
		Config:          cfg,
		done:            make(chan struct{}),
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var err error
	if h.APIPort, err = FreePort(); err != nil {
		return nil, err
	}
	for _, fe := range cfg.Frontends {
		if h.Ports[fe.Name], err = FreePort(); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{h.RoutesMap, h.RoutesIPMap, h.RoutesNumberMap} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			return nil, err
		}
	}
	conf := h.render(cfg)
	if err := os.WriteFile(h.ConfFile, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if out, err := h.Run("-c"); err != nil {
		return nil, fmt.Errorf("haproxy -c: %v\n%s\n%s", err, out, conf)
	}
	logFile, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		return nil, err
	}
	h.cmd = exec.Command(HAProxyBinary, "-db", "-f", h.ConfFile)
	h.cmd.Stdout, h.cmd.Stderr = logFile, logFile
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := h.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start haproxy: %v", err)
	}
	go func() { _ = h.cmd.Wait(); logFile.Close(); close(h.done) }()
	addrs := []string{h.APIAddr()}
	for _, p := range h.Ports {
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(p))
	}
	for _, a := range addrs {
		if err := WaitTCP(a, 10*time.Second); err != nil {
			h.Shutdown()
			log, _ := os.ReadFile(filepath.Join(dir, "haproxy.log"))
			return nil, fmt.Errorf("haproxy did not start: %v\n%s", err, log)
		}
	}
	return h, nil
}

// Shutdown stops HAProxy (SIGTERM, then its process group is killed after five
// seconds). It is safe to call more than once.
func (h *HAProxy) Shutdown() { stopProcessGroup(h.cmd, h.done) }

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
	checks := ""
	if !cfg.Checks.Disabled {
		c := cfg.Checks.withDefaults()
		checks = fmt.Sprintf(" check inter %dms fall %d rise %d", c.Inter.Milliseconds(), c.Fall, c.Rise)
	}
	for _, be := range cfg.Backends {
		fmt.Fprintf(&b, "backend %s\n", be.Name)
		if !cfg.Checks.Disabled {
			fmt.Fprintf(&b, "    option httpchk GET %s\n", cfg.Checks.withDefaults().Path)
		}
		// Names the member in every answer, HAProxy's own errors included.
		b.WriteString("    http-after-response set-header X-Served-By %b/%s@%[bc_dst]:%[bc_dst_port]\n")
		for i, addr := range be.Servers {
			fmt.Fprintf(&b, "    server node%d %s%s\n", i+1, addr, checks)
		}
	}
	return b.String()
}

// HAProxyServerStat is one server of a backend as HAProxy's runtime API reports
// it (`show stat`).
type HAProxyServerStat struct {
	// Name is the server's name ("node1"), Addr its address ("127.0.0.1:P").
	Name, Addr string
	// Status is HAProxy's verdict: "UP", "DOWN", "MAINT", "DRAIN", "no check", or
	// a transition such as "UP 1/2" (up, one check failed) or "DOWN 1/2".
	Status string
	// CheckStatus is the last check's result ("L7OK", "L4CON", "INI", ...; a
	// leading "* " means a check is running); "" without checks.
	CheckStatus string
	// Weight is the effective weight (0 in drain).
	Weight int
}

// Serving reports whether HAProxy sends new requests to the server: it is UP by
// its checks (or has none), not in drain or maintenance, and has a weight.
func (s HAProxyServerStat) Serving() bool {
	up := strings.HasPrefix(s.Status, "UP") || s.Status == "no check"
	return up && s.Weight > 0
}

// ChecksUp reports whether HAProxy's health checks have the server up, whatever
// its admin state (drain) or weight: its status is neither DOWN nor MAINT (a
// drained server that passes its checks shows "DRAIN").
func (s HAProxyServerStat) ChecksUp() bool {
	return !strings.HasPrefix(s.Status, "DOWN") && !strings.HasPrefix(s.Status, "MAINT") && s.Status != ""
}

// Confirmed reports whether the server is serving and its last check passed, so
// that HAProxy's start-up assumption (every server UP before its first check) is
// not taken for a verdict.
func (s HAProxyServerStat) Confirmed() bool {
	if !s.Serving() {
		return false
	}
	cs := strings.TrimPrefix(s.CheckStatus, "* ")
	return s.Status == "no check" || strings.HasPrefix(cs, "L7OK") || strings.HasPrefix(cs, "L6OK") || strings.HasPrefix(cs, "L4OK")
}

// Command sends one command to the runtime API and returns the answer.
func (h *HAProxy) Command(cmd string) (string, error) { return HAProxyCommand(h.TCPURL(), cmd) }

// Servers returns the servers of backend.
func (h *HAProxy) Servers(backend string) ([]HAProxyServerStat, error) {
	return HAProxyServers(h.TCPURL(), backend)
}

// Confirmed returns how many servers of backend are Confirmed (UP by a passed
// check, not in drain or maintenance, with a weight), and the servers.
func (h *HAProxy) Confirmed(backend string) (int, []HAProxyServerStat, error) {
	srvs, err := h.Servers(backend)
	n := 0
	for _, s := range srvs {
		if s.Confirmed() {
			n++
		}
	}
	return n, srvs, err
}

// WaitConfirmed waits until every server of backend is Confirmed: UP by a passed
// check, not in drain or maintenance, with a weight.
func (h *HAProxy) WaitConfirmed(backend string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, srvs, err := h.Confirmed(backend)
		if err == nil && len(srvs) > 0 && n == len(srvs) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxy backend %s: not every server confirmed UP within %s: %+v %v", backend, timeout, srvs, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// HAProxyCommand sends one command to the runtime API at api ("tcp://host:port"
// or "unix:///path") and returns the answer.
func HAProxyCommand(api, cmd string) (string, error) {
	network, addr := "tcp", strings.TrimPrefix(api, "tcp://")
	if strings.HasPrefix(api, "unix://") {
		network, addr = "unix", strings.TrimPrefix(api, "unix://")
	}
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// HAProxyServers returns the servers of backend from the runtime API at api.
func HAProxyServers(api, backend string) ([]HAProxyServerStat, error) {
	out, err := HAProxyCommand(api, "show stat "+backend+" 4 -1")
	if err != nil {
		return nil, err
	}
	return parseHAProxyStat(out, backend)
}

// parseHAProxyStat reads `show stat` CSV, keeping backend's server rows.
func parseHAProxyStat(out, backend string) ([]HAProxyServerStat, error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "# ") {
		return nil, fmt.Errorf("show stat: unexpected answer %q", out)
	}
	col := map[string]int{}
	for i, name := range strings.Split(strings.TrimPrefix(lines[0], "# "), ",") {
		col[name] = i
	}
	for _, name := range []string{"pxname", "svname", "status", "weight", "check_status", "addr"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("show stat: no column %s", name)
		}
	}
	var srvs []HAProxyServerStat
	for _, line := range lines[1:] {
		f := strings.Split(line, ",")
		if len(f) < len(col) || f[col["pxname"]] != backend {
			continue
		}
		if sv := f[col["svname"]]; sv == "FRONTEND" || sv == "BACKEND" {
			continue
		}
		w, _ := strconv.Atoi(f[col["weight"]])
		srvs = append(srvs, HAProxyServerStat{
			Name: f[col["svname"]], Addr: f[col["addr"]], Status: f[col["status"]],
			CheckStatus: f[col["check_status"]], Weight: w,
		})
	}
	return srvs, nil
}
