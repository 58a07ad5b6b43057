package fleet

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// NginxBinary is the nginx executable the fleet runs.
var NginxBinary = "/usr/sbin/nginx"

// NginxOptions configures StartNginxProcess.
type NginxOptions struct {
	// Pools maps each pool (an nginx upstream) to the member addresses the upstreams
	// file starts with. Pool names must be valid nginx variable name parts
	// ([A-Za-z0-9_]). The file is written in plain nginx syntax, the way an operator
	// would have written it before nonstop managed it.
	Pools map[string][]string
}

// Nginx is a running nginx: a master process with one worker, listening on a free
// loopback port, with every path inside its own directory. Every answer carries
// X-Upstream: the member address nginx sent the request to ($upstream_addr), and
// X-Upstream-Name: the upstream it chose ($proxy_host: the pool, or a route's
// upstream POOL__ROUTE).
//
// The main config includes UpstreamsFile, which must define `$nonstop_<pool>` for
// each pool, and proxies `/<pool>/...` to `http://$nonstop_<pool>` with
// `proxy_next_upstream off`, so a request reaches exactly the member nginx picked.
// Websockets pass through (proxy_http_version 1.1 and the Upgrade and Connection
// headers); nginx keeps no `worker_shutdown_timeout`, so a reload's old worker
// keeps the upgraded connections it holds until one side closes them.
type Nginx struct {
	Dir           string
	ConfFile      string
	UpstreamsFile string
	ErrorLog      string
	Port          int

	cmd  *exec.Cmd
	done chan struct{}
}

// StartNginxProcess writes a config for opts in dir (created if needed), starts
// nginx with it in its own process group (killed if this process dies) and waits
// until it listens. The caller must call Shutdown.
func StartNginxProcess(dir string, opts NginxOptions) (*Nginx, error) {
	return launchNginx(dir, opts.Pools, "")
}

// StartEdgeNginxProcess starts nginx in dir as an edge proxy of one pool: every
// path of its listener goes to `http://$nonstop_<pool>` with `proxy_next_upstream
// off`, unchanged (StartNginxProcess proxies `/<pool>/...` instead, which an application
// serving `/work` does not answer). The upstreams file starts with members in
// plain nginx syntax. The caller must call Shutdown.
func StartEdgeNginxProcess(dir, pool string, members []string) (*Nginx, error) {
	return launchNginx(dir, map[string][]string{pool: members}, pool)
}

// launchNginx is the one nginx starter: pools go to the upstreams file; edgePool,
// when set, is proxied at "/" instead of "/<pool>/".
func launchNginx(dir string, pools map[string][]string, edgePool string) (*Nginx, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// Workers run as nobody when we run as root: let them into the directory.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, fmt.Errorf("chmod %s: %v", d, err)
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
	conf := n.mainConf(pools)
	if edgePool != "" {
		conf = strings.Replace(conf, "location /"+edgePool+"/ {", "location / {", 1)
	}
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

// Shutdown stops nginx (SIGTERM, then its process group is killed after five
// seconds). It is safe to call more than once.
func (n *Nginx) Shutdown() { stopProcessGroup(n.cmd, n.done) }

// Addr returns the host:port nginx listens on.
func (n *Nginx) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.Port) }

// URL returns the URL that proxies to pool.
func (n *Nginx) URL(pool string) string { return "http://" + n.Addr() + "/" + pool + "/" }

// Command returns an nginx command line for this instance with extra args, e.g.
// Command("-t") or Command("-s", "reload"); it is what a provider's test and reload
// settings hold.
func (n *Nginx) Command(extra ...string) []string {
	return append([]string{NginxBinary}, append(n.args(), extra...)...)
}

// Run runs nginx for this instance with extra args and returns its combined output.
func (n *Nginx) Run(extra ...string) ([]byte, error) {
	argv := n.Command(extra...)
	return exec.Command(argv[0], argv[1:]...).CombinedOutput()
}

// Reloads returns how many reloads the master has started.
func (n *Nginx) Reloads() int {
	log, _ := os.ReadFile(n.ErrorLog)
	return len(reconfiguringLine.FindAll(log, -1))
}

var (
	reconfiguringLine = regexp.MustCompile(`(?m)#\d+: reconfiguring$`)
	workerExitLine    = regexp.MustCompile(`(?m)worker process \d+ exited with code`)
)

// WaitReloads waits until nginx has started at least want reloads and every
// worker of an older configuration has exited, so that every new request is served
// by the newest configuration.
func (n *Nginx) WaitReloads(want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		log, _ := os.ReadFile(n.ErrorLog)
		reloads := len(reconfiguringLine.FindAll(log, -1))
		exited := len(workerExitLine.FindAll(log, -1))
		// One worker per generation: after r reloads, r old workers must have exited.
		if reloads >= want && exited >= reloads {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nginx: %d reloads and %d exited workers, want %d reloads settled\n%s",
				reloads, exited, want, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Fataler is the part of testing.TB that WaitReloaded uses, so that this package
// does not import testing.
type Fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// WaitReloaded is WaitReloads for a test: it waits up to ten seconds and fails t
// if nginx has not settled by then.
func (n *Nginx) WaitReloaded(t Fataler, want int) {
	t.Helper()
	if err := n.WaitReloads(want, 10*time.Second); err != nil {
		t.Fatalf("%v", err)
	}
}

func (n *Nginx) args() []string {
	return []string{"-p", n.Dir + "/", "-c", n.ConfFile, "-e", n.ErrorLog}
}

func (n *Nginx) mainConf(pools map[string][]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "daemon off;\nmaster_process on;\nworker_processes 1;\n")
	fmt.Fprintf(&b, "pid %s;\nerror_log %s notice;\n", filepath.Join(n.Dir, "nginx.pid"), n.ErrorLog)
	if os.Geteuid() == 0 {
		fmt.Fprintf(&b, "user %s;\n", unprivilegedUser())
	}
	fmt.Fprintf(&b, "events { worker_connections 256; }\nhttp {\n    access_log off;\n")
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "    %s_temp_path %s;\n", kind, filepath.Join(n.Dir, "tmp_"+kind))
	}
	// Websockets pass through: the upgrade headers go to the member over HTTP/1.1;
	// other requests keep `Connection: close`, as with nginx's defaults.
	b.WriteString("    map $http_upgrade $connection_upgrade {\n        default upgrade;\n        '' close;\n    }\n")
	fmt.Fprintf(&b, "    include %s;\n    server {\n        listen %s;\n", n.UpstreamsFile, n.Addr())
	for _, pool := range slices.Sorted(maps.Keys(pools)) {
		fmt.Fprintf(&b, "        location /%s/ {\n            proxy_pass http://$nonstop_%s;\n", pool, pool)
		fmt.Fprintf(&b, "            proxy_next_upstream off;\n")
		fmt.Fprintf(&b, "            proxy_http_version 1.1;\n            proxy_set_header Upgrade $http_upgrade;\n")
		fmt.Fprintf(&b, "            proxy_set_header Connection $connection_upgrade;\n")
		// Names the member that answered (or failed), on errors too.
		fmt.Fprintf(&b, "            add_header X-Upstream $upstream_addr always;\n")
		fmt.Fprintf(&b, "            add_header X-Upstream-Name $proxy_host always;\n        }\n")
	}
	fmt.Fprintf(&b, "    }\n}\n")
	return b.String()
}

// plainUpstreams renders pools the way an operator writes them by hand.
func plainUpstreams(pools map[string][]string) string {
	var b strings.Builder
	for _, pool := range slices.Sorted(maps.Keys(pools)) {
		fmt.Fprintf(&b, "upstream %s {\n", pool)
		for _, addr := range pools[pool] {
			fmt.Fprintf(&b, "    server %s;\n", addr)
		}
		fmt.Fprintf(&b, "}\nmap $host $nonstop_%s {\n    default %s;\n}\n", pool, pool)
	}
	return b.String()
}

// unprivilegedUser returns "nobody GROUP" with nobody's primary group.
func unprivilegedUser() string {
	group := "nogroup"
	if u, err := user.Lookup("nobody"); err == nil {
		if g, err := user.LookupGroupId(u.Gid); err == nil {
			group = g.Name
		}
	}
	return "nobody " + group
}

// stopProcessGroup asks a server started in its own process group to quit, and
// kills the whole group if it has not exited within five seconds.
func stopProcessGroup(cmd *exec.Cmd, done <-chan struct{}) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}
