package fleet

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DemoFleet is a set of demo-service instances managed the way a user's deploy
// mechanism manages them: examples/demo/deploy.sh behaves like `systemctl restart`
// — it stops an instance through its pid file (SIGTERM, waiting for the exit),
// starts the new version detached in its own session and returns at once, before
// the new process has opened its port. Nothing here keeps a handle on the
// processes; Stop finds them through the pid files, as an operator would.
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
	// StartDelay is how long a started instance waits before it opens its port
	// (NONSTOP_DEMO_START_DELAY), Warmup how long it then answers every request
	// with 503 before it registers (NONSTOP_DEMO_WARMUP). Zero: at once.
	StartDelay, Warmup time.Duration
}

// NewDemoFleet builds the demo-service (once per process) and returns a fleet whose
// instances register as service in the registry at nacos, with its files in dir.
func NewDemoFleet(dir, nacos, service string) (*DemoFleet, error) {
	bin, err := DemoBinary()
	if err != nil {
		return nil, err
	}
	root, err := ModuleRoot()
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

// Env returns the environment the deploy script reads, as NAME=value entries. A
// configuration whose deploy step runs the script passes the same values.
func (f *DemoFleet) Env() []string {
	return []string{
		"NONSTOP_DEMO_DIR=" + f.Dir,
		"NONSTOP_DEMO_BIN=" + f.Bin,
		"NONSTOP_DEMO_NACOS=" + f.Nacos,
		"NONSTOP_DEMO_BAD_VERSIONS=" + strings.Join(f.BadVersions, ","),
		"NONSTOP_DEMO_START_DELAY=" + f.StartDelay.String(),
		"NONSTOP_DEMO_WARMUP=" + f.Warmup.String(),
		"SERVICE=" + f.Service,
	}
}

// DeployAll runs the deploy script for every address, in parallel, and then waits
// until every instance is ready (WaitReady), as an operator's first roll-out does.
func (f *DemoFleet) DeployAll(addrs []string, version string) error {
	errs := make(chan error, len(addrs))
	for _, a := range addrs {
		go func() {
			if err := f.Deploy(a, version); err != nil {
				errs <- err
				return
			}
			errs <- f.WaitReady(a, version, 30*time.Second+f.StartDelay+f.Warmup)
		}()
	}
	var first error
	for range addrs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// WriteEnv writes Dir/fleet.env, which deploy.sh sources for the fleet's
// defaults: the start-up delay and warm-up of every instance it starts, whoever
// runs it (Deploy, or nonstop's deploy step with an env block that does not set
// them). Deploy calls it; call it after changing StartDelay or Warmup when nonstop
// deploys next.
func (f *DemoFleet) WriteEnv() error {
	text := fmt.Sprintf("# Written by testfleet.DemoFleet: defaults for deploy.sh; variables already set win.\n"+
		"export NONSTOP_DEMO_START_DELAY=\"${NONSTOP_DEMO_START_DELAY:-%s}\"\n"+
		"export NONSTOP_DEMO_WARMUP=\"${NONSTOP_DEMO_WARMUP:-%s}\"\n", f.StartDelay, f.Warmup)
	// Written aside and renamed: a deploy running at the same time reads a whole file.
	tmp, err := os.CreateTemp(f.Dir, "fleet.env.*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(f.Dir, "fleet.env"))
}

// Deploy runs the deploy script for one address ("host:port") and version. Like
// `systemctl restart`, it returns once the old process has exited and the new one
// is started, before the new one opens its port.
func (f *DemoFleet) Deploy(addr, version string) error {
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return fmt.Errorf("address %q is not host:port", addr)
	}
	if err := f.WriteEnv(); err != nil {
		return err
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

// WaitReady waits until the instance at addr answers /version with version and
// its current run has logged "ready" (warm, and registered when the fleet has a
// registry). It fails early when the process has exited.
func (f *DemoFleet) WaitReady(addr, version string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	// The pid file names the process as soon as deploy.sh started it, which may
	// still be `setsid` about to exec the demo-service (a busy machine widens the
	// window): the instance counts as not running only after a second of it.
	var goneSince time.Time
	for {
		run := f.currentRun(addr)
		if readyLine.MatchString(run) {
			if resp, err := client.Get("http://" + addr + "/version"); err == nil {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
				resp.Body.Close()
				if string(b) == version {
					return nil
				}
			}
		}
		if pid := f.Pid(addr); pid == 0 || !isDemoService(pid) {
			if goneSince.IsZero() {
				goneSince = time.Now()
			} else if time.Since(goneSince) > time.Second {
				return fmt.Errorf("%s (%s) is not running:\n%s", addr, version, run)
			}
		} else {
			goneSince = time.Time{}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (%s) not ready within %s:\n%s", addr, version, timeout, run)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// currentRun returns the lines the instance at addr logged since it was last
// started (deploy.sh writes a "--- ... starting VERSION" line before each start).
func (f *DemoFleet) currentRun(addr string) string {
	log := f.Log(addr)
	if i := strings.LastIndex(log, "--- "); i >= 0 {
		return log[i:]
	}
	return log
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

// DeployStart is when a run of deploy.sh for an instance began.
type DeployStart struct {
	Version string
	At      time.Time
}

var deployStartLine = regexp.MustCompile(`(?m)^=== deploy (\S+) at (\d+)\.(\d{9})$`)

// DeployStarts returns when each deploy of the instance at addr began, oldest
// first, from the "=== deploy VERSION at EPOCH" lines deploy.sh logs.
func (f *DemoFleet) DeployStarts(addr string) []DeployStart {
	var out []DeployStart
	for _, m := range deployStartLine.FindAllStringSubmatch(f.Log(addr), -1) {
		sec, _ := strconv.ParseInt(m[2], 10, 64)
		nsec, _ := strconv.ParseInt(m[3], 10, 64)
		out = append(out, DeployStart{Version: m[1], At: time.Unix(sec, nsec)})
	}
	return out
}
