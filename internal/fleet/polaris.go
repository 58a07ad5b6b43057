package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// PolarisVersion is the pinned PolarisMesh server release the fleet runs.
const PolarisVersion = "v1.18.1"

// polarisReadyTimeout bounds the wait for a fresh Polaris. With the trimmed config
// (three API servers, an empty bolt store) it is ready in 0.2 to 1 s on this 2-core
// machine (measured by testfleet's TestStartPolaris; Polaris.Startup records it), longer while
// other tests build; the release config with every server takes about 10 s.
const polarisReadyTimeout = 60 * time.Second

// Polaris is a running PolarisMesh server speaking the Nacos v1 HTTP and v2 gRPC
// protocols on loopback ports, with its bolt store and logs in Dir.
type Polaris struct {
	// NacosAddr is the Nacos HTTP address, "127.0.0.1:P".
	NacosAddr string
	// GRPCPort is the Nacos gRPC port: the HTTP port + 1000, as Nacos clients assume.
	GRPCPort int
	// NativeAddr is Polaris' own HTTP API ("127.0.0.1:Q"), e.g. /naming/v1/instances.
	NativeAddr string
	// Dir is the working directory: conf/, polaris.bolt and log/.
	Dir string
	// Startup is how long the server took to become ready.
	Startup time.Duration

	cmd      *exec.Cmd
	waitErr  error
	exited   chan struct{}
	stopOnce sync.Once
}

// PolarisOptions tunes a Polaris started with StartPolarisProcessWith.
type PolarisOptions struct {
	// ClientAuth turns on Polaris' client authentication in strict mode, so that
	// requests without a valid Polaris token (including every Nacos login, whose
	// password Polaris does not check) are refused.
	ClientAuth bool
}

// StartPolarisProcess starts a Polaris in dir (created if needed), writing its
// console output to logw. The caller must call Stop.
func StartPolarisProcess(dir string, logw io.Writer) (*Polaris, error) {
	return StartPolarisProcessWith(dir, logw, PolarisOptions{})
}

// StartPolarisProcessWith is StartPolarisProcess with options.
func StartPolarisProcessWith(dir string, logw io.Writer, opts PolarisOptions) (*Polaris, error) {
	bin, err := PolarisBinary()
	if err != nil {
		return nil, err
	}
	// Ports are picked free and may be taken by someone else before Polaris binds
	// them; a failed start is retried with new ports.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p, err := startPolarisOnce(bin, dir, logw, opts)
		if err == nil {
			return p, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startPolarisOnce(bin, dir string, logw io.Writer, opts PolarisOptions) (*Polaris, error) {
	ports, err := pickPolarisPorts()
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(filepath.Join(dir, "polaris.bolt")); err != nil {
		return nil, err
	}
	if err := writePolarisConf(dir, ports, opts); err != nil {
		return nil, err
	}
	if logw == nil {
		logw = io.Discard
	}
	cmd := exec.Command(bin, "start", "-c", "conf/polaris-server.yaml")
	cmd.Dir = dir
	cmd.Stdout = logw
	cmd.Stderr = logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %v", bin, err)
	}
	p := &Polaris{
		NacosAddr:  fmt.Sprintf("127.0.0.1:%d", ports.nacosHTTP),
		GRPCPort:   ports.nacosHTTP + 1000,
		NativeAddr: fmt.Sprintf("127.0.0.1:%d", ports.native),
		Dir:        dir,
		cmd:        cmd,
		exited:     make(chan struct{}),
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitReady(polarisReadyTimeout); err != nil {
		p.Stop()
		return nil, fmt.Errorf("polaris in %s: %v", dir, err)
	}
	p.Startup = time.Since(start)
	return p, nil
}

// waitReady waits until the Nacos HTTP API answers, the Nacos gRPC port accepts
// connections and the native API lists namespaces.
func (p *Polaris) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	probes := []string{
		"http://" + p.NacosAddr + "/nacos/v1/ns/operator/metrics",
		"http://" + p.NativeAddr + "/naming/v1/namespaces",
	}
	for _, url := range probes {
		for {
			select {
			case <-p.exited:
				return fmt.Errorf("exited before it was ready: %v (see %s)", p.waitErr, filepath.Join(p.Dir, "log"))
			default:
			}
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				err = fmt.Errorf("%s answered %s", url, resp.Status)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("not ready within %s: %v", timeout, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return WaitTCP(fmt.Sprintf("127.0.0.1:%d", p.GRPCPort), time.Until(deadline))
}

// Stop kills Polaris' process group and waits for it to exit. It is safe to call
// more than once. Polaris takes several seconds to shut down gracefully on SIGTERM,
// and its bolt store is transactional, so it is killed outright.
func (p *Polaris) Stop() {
	p.stopOnce.Do(func() {
		if p.cmd.Process == nil {
			return
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	})
}

// Freeze stops Polaris' process group (SIGSTOP): it keeps its connections open
// and answers nothing, as a registry does in a long GC pause, a hung disk or a
// network partition that drops packets, until Thaw.
func (p *Polaris) Freeze() error {
	if p.cmd.Process == nil {
		return fmt.Errorf("polaris is not running")
	}
	return syscall.Kill(-p.cmd.Process.Pid, syscall.SIGSTOP)
}

// Thaw lets a frozen Polaris run again (SIGCONT).
func (p *Polaris) Thaw() error {
	if p.cmd.Process == nil {
		return fmt.Errorf("polaris is not running")
	}
	return syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT)
}

// PolarisBinary returns the path of the cached Polaris binary, building it with
// scripts/polaris.sh when it is missing.
func PolarisBinary() (string, error) {
	bin := filepath.Join(CacheDir(), "bin", "polaris")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("polaris binary %s is missing and scripts/polaris.sh cannot be found: %v", bin, err)
	}
	var out bytes.Buffer
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "polaris.sh"))
	cmd.Env = append(os.Environ(), "NONSTOP_CACHE="+CacheDir())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/polaris.sh: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("scripts/polaris.sh ran but %s is missing", bin)
	}
	return bin, nil
}

// ModuleRoot finds the nonstop module root from `go env GOMOD`, falling back on
// walking up from the working directory.
func ModuleRoot() (string, error) {
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull {
			return filepath.Dir(gomod), nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
