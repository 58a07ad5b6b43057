package command

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/internal/testfleet"
)

// killConfig is a service of two real HTTP backends behind a real nginx, without
// a registry (nonstop's state supplies the versions), whose deploy command sleeps
// for var.deploy_sleep seconds.
const killConfig = `
variable "deploy_sleep" {
  type    = string
  default = "0"
}

provider "nginx" "edge" {
  upstreams_file = %q
  test           = %s
  reload         = %s
}

service "shop" {
  version = "2.0.0"

  group "a" { instances = [%q] }
  group "b" { instances = [%q] }

  balancer "http" {
    provider = nginx.edge
    pool     = "web"
    weight   = 1
  }

  strategy "rolling" {
    batch = "group"
  }

  drain {
    timeout = "2s"
  }

  deploy {
    command = ["sleep", var.deploy_sleep]
  }

  health {
    http     = "http://${instance.address}/health"
    interval = "100ms"
  }
}
`

// TestBinaryApplyKilledThenConverges kills a running `nonstop apply` with SIGKILL
// in the middle of a deploy, and checks that the next apply reports the steps
// that were in flight, records the release as interrupted and converges.
func TestBinaryApplyKilledThenConverges(t *testing.T) {
	backends := testfleet.StartBackends(t, 2)
	nginx := testfleet.StartNginx(t, testfleet.NginxOptions{Pools: map[string][]string{"web": {backends[0].Addr, backends[1].Addr}}})
	dir := t.TempDir()
	cfg := fmt.Sprintf(killConfig, nginx.UpstreamsFile, hclList(nginx.Command("-t")), hclList(nginx.Command("-s", "reload")),
		backends[0].Addr, backends[1].Addr)
	if err := os.WriteFile(filepath.Join(dir, "shop.ns.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	// The first apply deploys group a (its version is unknown: no state yet) and is
	// killed, with its deploy's sleep, while the deploy runs.
	cmd := exec.Command(binary, "apply", "-auto-approve", "-var", "deploy_sleep=60", dir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NONSTOP_LOG=warn"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
		}
	})
	journal := filepath.Join(dir, ".nonstop", "journal.jsonl")
	eventually(t, 30*time.Second, "the first apply starts a deploy", func() string {
		b, _ := os.ReadFile(journal)
		if strings.Contains(string(b), `"kind":"deploy"`) {
			return ""
		}
		return "journal:\n" + string(b) + "\noutput:\n" + out.String()
	})
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true

	env := map[string]string{"NONSTOP_LOG": "warn"}
	res := runBinary(t, dir, env, "apply", "-auto-approve", dir)
	if res.code != 0 {
		t.Fatalf("apply after the kill: exit code %d\n%s\nkilled apply's output:\n%s", res.code, res, out.String())
	}
	for _, want := range []string{"A previous apply (", "did not finish", "in flight: shop.", "deploy shop/a/" + backends[0].Addr,
		"nonstop plans again from live state.", "Apply complete!"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("apply after the kill: stdout lacks %q:\n%s", want, res)
		}
	}
	st := loadLocalState(t, dir)
	if st.Journal != nil || len(st.History) != 2 {
		t.Fatalf("state after recovery: journal %+v, history %+v", st.Journal, st.History)
	}
	if st.History[0].Result != "interrupted" || st.History[1].Result != "success" {
		t.Errorf("history results %q, %q; want interrupted, success", st.History[0].Result, st.History[1].Result)
	}
	for _, b := range backends {
		if v := st.Deployed["shop"][b.Addr]; v != "2.0.0" {
			t.Errorf("state records %s at version %q, want 2.0.0", b.Addr, v)
		}
	}
	if again := runBinary(t, dir, env, "apply", "-auto-approve", dir); again.code != 0 || !strings.Contains(again.stdout, "No changes.") {
		t.Errorf("third apply: want exit 0 and no changes (converged)\n%s", again)
	}
}
