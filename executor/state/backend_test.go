package state

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/zclconf/go-cty/cty"
)

// helperEnv, when set, makes the test binary a lock-holding child process.
const helperEnv = "NONSTOP_STATE_HELPER"

// pgDSN is the test package's PostgreSQL server, started by TestMain.
var pgDSN string

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(m.Run())
	}
	pg, err := testfleet.LaunchPostgres()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start postgres: %v\n", err)
		os.Exit(1)
	}
	pgDSN = pg.DSN
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop postgres: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// backendKind is one row of the conformance suite's table of backends.
type backendKind struct {
	name string
	// store returns the kind and attributes of a fresh, empty store; every Open
	// of them shares its state and lock.
	store func(t *testing.T) (string, map[string]cty.Value)
	// breaksLiveLock says whether ForceUnlock can take the lock from a holder
	// that is still running.
	breaksLiveLock bool
}

var backendKinds = []backendKind{
	{
		name: "local",
		store: func(t *testing.T) (string, map[string]cty.Value) {
			return "local", map[string]cty.Value{"path": cty.StringVal(t.TempDir())}
		},
	},
	{
		name: "postgres",
		store: func(t *testing.T) (string, map[string]cty.Value) {
			return "postgres", map[string]cty.Value{
				"dsn":       cty.StringVal(pgDSN),
				"workspace": cty.StringVal(t.Name()),
			}
		},
		breaksLiveLock: true,
	},
}

// opener opens backends on one store, closing them when the test ends.
func openerFor(t *testing.T, kind backendKind) func() Backend {
	name, attrs := kind.store(t)
	return func() Backend {
		t.Helper()
		b, err := Open(name, attrs, t.TempDir())
		if err != nil {
			t.Fatalf("open %s backend: %v", name, err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
}

// lockFor locks b for operation "apply" with a deadline of timeout.
func lockFor(b Backend, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return b.Lock(ctx, NewLockInfo("apply", "test"))
}

// TestHelperProcess is not a test: run as a child by startHolder, it takes the
// lock of the store in its environment, prints "locked ID" and holds the lock
// until its stdin closes or it is killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "lock" {
		return
	}
	var attrs map[string]string
	if err := json.Unmarshal([]byte(os.Getenv("NONSTOP_STATE_ATTRS")), &attrs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	vals := map[string]cty.Value{}
	for k, v := range attrs {
		vals[k] = cty.StringVal(v)
	}
	b, err := Open(os.Getenv("NONSTOP_STATE_KIND"), vals, ".")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	info := NewLockInfo("apply", "helper")
	info.Info = "helper process"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := b.Lock(ctx, info)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("locked %s\n", id)
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// holder is a child process holding a store's lock.
type holder struct {
	cmd   *exec.Cmd
	stdin io.Closer
	id    string
}

// startHolder runs TestHelperProcess as a child that takes the lock of the
// store described by kind and attrs, and waits until it holds it.
func startHolder(t *testing.T, kind string, attrs map[string]cty.Value) *holder {
	t.Helper()
	plain := map[string]string{}
	for k, v := range attrs {
		plain[k] = v.AsString()
	}
	attrJSON, _ := json.Marshal(plain)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=lock", "NONSTOP_STATE_KIND="+kind, "NONSTOP_STATE_ATTRS="+string(attrJSON))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { h.kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	id, ok := strings.CutPrefix(strings.TrimSpace(line), "locked ")
	if err != nil || !ok {
		t.Fatalf("helper process did not report its lock: %q, %v", line, err)
	}
	h.id = id
	return h
}

// kill ends the holder with SIGKILL — no chance to unlock — and reaps it.
func (h *holder) kill() {
	if h.cmd.ProcessState != nil {
		return
	}
	h.cmd.Process.Signal(syscall.SIGKILL)
	h.cmd.Wait()
	h.stdin.Close()
}
