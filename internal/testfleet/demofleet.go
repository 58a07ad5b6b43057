package testfleet

import (
	"bytes"
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

// DemoFleet is a set of demo-service instances managed the way a user's deploy
// mechanism manages them: examples/demo/deploy.sh stops an instance through its pid
// file, starts the new version detached in its own session and waits for /health.
// Nothing here keeps a handle on the processes; Stop finds them through the pid
// files, as an operator would.
type DemoFleet struct {
	// Dir holds the pid files, the instances' logs and their SDK caches.
	Dir string
	// Script is the deploy script, examples/demo/deploy.sh.
	Script string
	// Bin is the demo-service binary.
	Bin string
	// Nacos is the registry's Nacos HTTP address; "" runs instances unregistered.
	Nacos string
	// Service is the registered service name.
	Service string
	// BadVersions start with -fail-health (NONSTOP_DEMO_BAD_VERSIONS).
	BadVersions []string
}

// NewDemoFleet builds the demo-service (once per process) and returns a fleet whose
// instances register as service in the registry at nacos, with its files in dir.
func NewDemoFleet(dir, nacos, service string) (*DemoFleet, error) {
	bin, err := DemoBinary()
	if err != nil {
		return nil, err
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &DemoFleet{
		Dir:     dir,
		Script:  filepath.Join(root, "examples", "demo", "deploy.sh"),
		Bin:     bin,
		Nacos:   nacos,
		Service: service,
	}, nil
}

// StartDemoFleet starts one instance per address at version through the deploy
// script; t.Cleanup stops every instance the fleet ever started.
func StartDemoFleet(t testing.TB, nacos, service string, addrs []string, version string) *DemoFleet {
	t.Helper()
	f, err := NewDemoFleet(t.TempDir(), nacos, service)
	if err != nil {
		t.Fatalf("demo fleet: %v", err)
	}
	t.Cleanup(f.Stop)
	if err := f.DeployAll(addrs, version); err != nil {
		t.Fatal(err)
	}
	return f
}

// Env returns the environment the deploy script reads, as NAME=value entries.
func (f *DemoFleet) Env() []string {
	return []string{
		"NONSTOP_DEMO_DIR=" + f.Dir,
		"NONSTOP_DEMO_BIN=" + f.Bin,
		"NONSTOP_DEMO_NACOS=" + f.Nacos,
		"NONSTOP_DEMO_BAD_VERSIONS=" + strings.Join(f.BadVersions, ","),
		"SERVICE=" + f.Service,
	}
}

// DeployAll runs the deploy script for every address, in parallel.
func (f *DemoFleet) DeployAll(addrs []string, version string) error {
	errs := make(chan error, len(addrs))
	for _, a := range addrs {
		go func() { errs <- f.Deploy(a, version) }()
	}
	var first error
	for range addrs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Deploy runs the deploy script for one address ("host:port") and version.
func (f *DemoFleet) Deploy(addr, version string) error {
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return fmt.Errorf("address %q is not host:port", addr)
	}
	cmd := exec.Command("bash", f.Script, host, port, version)
	cmd.Env = append(os.Environ(), f.Env()...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("deploy %s %s: %v\n%s", addr, version, err, out.String())
	}
	return nil
}

// Pid returns the pid recorded for the instance at addr, 0 if none.
func (f *DemoFleet) Pid(addr string) int {
	b, err := os.ReadFile(filepath.Join(f.Dir, strings.ReplaceAll(addr, ":", "_")+".pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// Log returns what the instance at addr has logged across its versions.
func (f *DemoFleet) Log(addr string) string {
	b, _ := os.ReadFile(filepath.Join(f.Dir, strings.ReplaceAll(addr, ":", "_")+".log"))
	return string(b)
}

// Stop kills the process group of every demo-service the fleet's deploy script
// ever started that is still running (SIGTERM, then SIGKILL after five seconds).
// A pid is only signalled while it still names a demo-service, so a reused pid is
// never touched.
func (f *DemoFleet) Stop() {
	b, _ := os.ReadFile(filepath.Join(f.Dir, "started.pids"))
	var live []int
	for _, field := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(field)
		if err == nil && isDemoService(pid) {
			live = append(live, pid)
			_ = syscall.Kill(-pid, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range live {
		for isDemoService(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if isDemoService(pid) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
}

// isDemoService reports whether pid is a running (not zombie) demo-service.
func isDemoService(pid int) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !bytes.Contains(cmdline, []byte("demo-service")) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// StartEdgeNginx is StartEdgeNginxProcess for a test: in a temporary directory,
// stopped when the test ends.
func StartEdgeNginx(t testing.TB, pool string, members []string) *Nginx {
	t.Helper()
	n, err := StartEdgeNginxProcess(t.TempDir(), pool, members)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Shutdown)
	return n
}

// StartEdgeNginxProcess starts nginx in dir outside of a test as an edge proxy of
// one pool: every path of its listener goes to `http://$nonstop_<pool>` with
// `proxy_next_upstream off`, unchanged (StartNginx proxies `/<pool>/...` instead,
// which an application serving `/work` does not answer). The upstreams file starts
// with members in plain nginx syntax. The caller must call Shutdown.
func StartEdgeNginxProcess(dir, pool string, members []string) (*Nginx, error) {
	// Workers run as nobody when we run as root: let them into the directory.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	n := &Nginx{
		Dir:           dir,
		ConfFile:      filepath.Join(dir, "nginx.conf"),
		UpstreamsFile: filepath.Join(dir, "upstreams.conf"),
		ErrorLog:      filepath.Join(dir, "error.log"),
		Port:          port,
		done:          make(chan struct{}),
	}
	pools := map[string][]string{pool: members}
	conf := strings.Replace(n.mainConf(pools), "location /"+pool+"/ {", "location / {", 1)
	if err := os.WriteFile(n.UpstreamsFile, []byte(plainUpstreams(pools)), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(n.ConfFile, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if out, err := n.Run("-t"); err != nil {
		return nil, fmt.Errorf("nginx -t: %v\n%s", err, out)
	}
	n.cmd = exec.Command(NginxBinary, n.args()...)
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nginx: %v", err)
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	if err := WaitTCP(n.Addr(), 10*time.Second); err != nil {
		n.Shutdown()
		log, _ := os.ReadFile(n.ErrorLog)
		return nil, fmt.Errorf("nginx did not start: %v\n%s", err, log)
	}
	return n, nil
}

// Shutdown stops nginx (SIGTERM, then its process group is killed after five seconds).
func (n *Nginx) Shutdown() { n.stop() }

// StartHAProxyProcess is StartHAProxy outside of a test: HAProxy runs in dir with
// cfg. The caller must call Shutdown.
func StartHAProxyProcess(dir string, cfg HAProxyConfig) (*HAProxy, error) {
	h := &HAProxy{
		Dir:         dir,
		ConfFile:    filepath.Join(dir, "haproxy.cfg"),
		SocketPath:  filepath.Join(dir, "admin.sock"),
		RoutesMap:   filepath.Join(dir, "routes.map"),
		RoutesIPMap: filepath.Join(dir, "routes-ip.map"),
		Ports:       map[string]int{},
		done:        make(chan struct{}),
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
	for _, f := range []string{h.RoutesMap, h.RoutesIPMap} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(h.ConfFile, []byte(h.render(cfg)), 0o644); err != nil {
		return nil, err
	}
	if out, err := h.Run("-c"); err != nil {
		return nil, fmt.Errorf("haproxy -c: %v\n%s", err, out)
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

// Shutdown stops HAProxy (SIGTERM, then its process group is killed after five seconds).
func (h *HAProxy) Shutdown() { stopProcessGroup(h.cmd, h.done) }
