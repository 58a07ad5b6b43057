package fleet

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DemoOptions configures a demo-service instance.
type DemoOptions struct {
	// Addr is host:port to listen on; "" picks a free loopback port.
	Addr string
	// Version is served at /version and registered as metadata; default "1.4.2".
	Version string
	// Service and Group name the Nacos service; defaults "order-service" and
	// "DEFAULT_GROUP". Cluster defaults to "DEFAULT".
	Service, Group, Cluster string
	// Nacos is the registry's Nacos HTTP address (Polaris.NacosAddr); "" serves
	// without registering.
	Nacos string
	// Namespace defaults to "public".
	Namespace string
	// FailHealth makes /health answer 503.
	FailHealth bool
	// DrainTimeout bounds the wait for in-flight requests on SIGTERM; default 30s.
	DrainTimeout time.Duration
	// StartDelay is how long the process waits before it opens its port, and
	// Warmup how long it then answers every request with 503 before it registers.
	StartDelay, Warmup time.Duration
	// RegisterDisabled registers the instance disabled (-register-enabled=false).
	RegisterDisabled bool
}

// Demo is a running demo-service process.
type Demo struct {
	// Addr is where it listens, "127.0.0.1:P".
	Addr    string
	Options DemoOptions

	cmd     *exec.Cmd
	out     *syncBuffer
	exited  chan struct{}
	waitErr error
	once    sync.Once
}

var (
	demoBuildOnce sync.Once
	demoBin       string
	demoBuildErr  error
)

// DemoBinary builds examples/demo-service once per process into a temporary
// directory named after the process, and returns its path. Directories left by
// earlier processes that are gone are removed.
func DemoBinary() (string, error) {
	demoBuildOnce.Do(func() {
		removeStaleDemoDirs()
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("nonstop-demo-service-%d", os.Getpid()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			demoBuildErr = err
			return
		}
		root, err := ModuleRoot()
		if err != nil {
			demoBuildErr = err
			return
		}
		bin := filepath.Join(dir, "demo-service")
		cmd := exec.Command("go", "build", "-o", bin, "./examples/demo-service")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			demoBuildErr = fmt.Errorf("go build ./examples/demo-service: %v\n%s", err, out)
			return
		}
		demoBin = bin
	})
	return demoBin, demoBuildErr
}

func removeStaleDemoDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "nonstop-demo-service-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "nonstop-demo-service-"))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(d)
		}
	}
}

// StartDemoProcess starts a demo-service and waits until /health answers and, when
// opts.Nacos is set, it has registered; sdkDir receives the Nacos SDK's logs and
// cache. The caller must Stop or Kill it.
func StartDemoProcess(opts DemoOptions, sdkDir string) (*Demo, error) {
	bin, err := DemoBinary()
	if err != nil {
		return nil, err
	}
	if opts.Addr == "" {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		opts.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	}
	setDefault(&opts.Version, "1.4.2")
	setDefault(&opts.Service, "order-service")
	setDefault(&opts.Group, "DEFAULT_GROUP")
	setDefault(&opts.Cluster, "DEFAULT")
	setDefault(&opts.Namespace, "public")
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	args := []string{
		"-addr", opts.Addr, "-version", opts.Version, "-service", opts.Service,
		"-group", opts.Group, "-cluster", opts.Cluster, "-nacos", opts.Nacos,
		"-namespace", opts.Namespace, "-drain-timeout", opts.DrainTimeout.String(),
		"-sdk-dir", sdkDir, "-start-delay", opts.StartDelay.String(), "-warmup", opts.Warmup.String(),
		"-register-enabled=" + strconv.FormatBool(!opts.RegisterDisabled),
	}
	if opts.FailHealth {
		args = append(args, "-fail-health")
	}
	d := &Demo{Addr: opts.Addr, Options: opts, out: &syncBuffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		d.waitErr = d.cmd.Wait()
		close(d.exited)
	}()
	if err := d.waitReady(30*time.Second + opts.StartDelay + opts.Warmup); err != nil {
		d.Kill()
		return nil, fmt.Errorf("demo-service %s: %v\n%s", opts.Addr, err, d.Output())
	}
	return d, nil
}

// waitReady waits for the "ready" log line (warm, and registered when opts.Nacos
// is set) and for /health to answer.
func (d *Demo) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-d.exited:
			return fmt.Errorf("exited before it was ready: %v", d.waitErr)
		default:
		}
		if readyLine.MatchString(d.Output()) {
			resp, err := client.Get("http://" + d.Addr + "/health")
			if err == nil {
				resp.Body.Close()
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyLine is what demo-service logs once it is warm and registered.
var readyLine = regexp.MustCompile(`(?m) ready$`)

// Stop sends SIGTERM and waits for the process to exit; the demo deregisters and
// finishes in-flight requests first. It returns the exit error, nil on exit 0.
func (d *Demo) Stop() error {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.exited
	return d.waitErr
}

// Kill kills the process group at once (no deregistration) and waits for it.
func (d *Demo) Kill() {
	d.once.Do(func() {
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	})
}

// Exited is closed when the process has exited.
func (d *Demo) Exited() <-chan struct{} { return d.exited }

// Output returns what the process has logged so far.
func (d *Demo) Output() string { return d.out.String() }

func setDefault(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
