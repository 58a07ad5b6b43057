package lang

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestEvalPerInstance evaluates deploy, health and verify for concrete instances.
func TestEvalPerInstance(t *testing.T) {
	cfg := loadValid(t, "canary.ns.hcl")
	s := cfg.Services["payments"]
	iv := InstanceVars{Address: addr("10.0.0.3", 8080), Group: "main", Version: "2.4.0", Service: "payments"}

	argv, env, d := s.EvalDeploy(iv)
	if d.HasErrors() {
		t.Fatal(d.Error())
	}
	if diff := cmp.Diff([]string{"ansible-playbook", "deploy.yml", "-l", "10.0.0.3", "-e", "version=2.4.0"}, argv); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"SERVICE": "payments", "GROUP": "main", "TOKEN": "tok-123456"}, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	u, d := s.EvalHealthURL(iv)
	if d.HasErrors() || u != "http://10.0.0.3:8080/healthz" {
		t.Errorf("health URL = %q, %v", u, d)
	}
	u, contains, d := s.EvalVerify(iv)
	if d.HasErrors() || u != "http://10.0.0.3:8080/version" || contains != `"version":"2.4.0"` {
		t.Errorf("verify = %q, %q, %v", u, contains, d)
	}

	ipv6 := InstanceVars{Address: addr("::1", 9000), Group: "blue", Version: "v", Service: "shop"}
	argv, env, d = loadValid(t, "blue_green.ns.hcl").Services["shop"].EvalDeploy(ipv6)
	if d.HasErrors() {
		t.Fatal(d.Error())
	}
	if diff := cmp.Diff([]string{"deploy", "--host", "::1", "--version", "v"}, argv); diff != "" || env != nil {
		t.Errorf("argv (-want +got):\n%s env %v", diff, env)
	}
}

// TestEvalWithoutBlocks checks the results for services without health or verify.
func TestEvalWithoutBlocks(t *testing.T) {
	s := loadValid(t, "minimal.ns.hcl").Services["web"]
	iv := InstanceVars{Address: addr("127.0.0.1", 18081), Group: "a", Version: "1", Service: "web"}
	if u, d := s.EvalHealthURL(iv); u != "" || d.HasErrors() {
		t.Errorf("health = %q, %v", u, d)
	}
	if u, c, d := s.EvalVerify(iv); u != "" || c != "" || d.HasErrors() {
		t.Errorf("verify = %q, %q, %v", u, c, d)
	}
	argv, _, d := s.EvalDeploy(iv)
	if d.HasErrors() || cmp.Diff([]string{"systemctl", "restart", "web@18081"}, argv) != "" {
		t.Errorf("argv = %q, %v", argv, d)
	}
	if _, _, d := (&Service{Name: "bare"}).EvalDeploy(iv); !d.HasErrors() {
		t.Error("EvalDeploy without a deploy block did not fail")
	}
}

// TestEvalPerInstanceError reports a failure that only shows for some instances.
func TestEvalPerInstanceError(t *testing.T) {
	src := `
service "web" {
  version = "1"
  group "a" { instances = ["127.0.0.1:18081"] }
  strategy "rolling" {}
  deploy { command = [substr(instance.group, 0, 1), element(["x"], instance.port - 18081)] }
  health { http = "http://${instance.address}/${{ a = "ok" }[instance.group]}" }
}`
	cfg, d := LoadFiles("", map[string][]byte{"x.ns.hcl": []byte(src)}, LoadOptions{})
	if d.HasErrors() {
		t.Fatal(d.Error())
	}
	s := cfg.Services["web"]
	iv := InstanceVars{Address: addr("127.0.0.1", 18081), Group: "b", Version: "1", Service: "web"}
	if _, d := s.EvalHealthURL(iv); !d.HasErrors() || d[0].Subject == nil || d[0].Subject.Start.Line != 7 {
		t.Errorf("health for group b: want an error at line 7, got %v", d)
	}
}

// TestPropagation checks drain.propagation, then the registry's, then 30s.
func TestPropagation(t *testing.T) {
	tests := map[string]struct {
		file, service string
		want          time.Duration
	}{
		"drain overrides":    {"language_example.ns.hcl", "order-service", 30 * time.Second},
		"registry provider":  {"canary.ns.hcl", "payments", 45 * time.Second},
		"registry default":   {"language_example.ns.hcl", "user-service", 30 * time.Second},
		"drain, no registry": {"blue_green.ns.hcl", "shop", 10 * time.Second},
		"nothing":            {"minimal.ns.hcl", "web", 30 * time.Second},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := loadValid(t, tt.file)
			if got := cfg.Propagation(cfg.Services[tt.service]); got != tt.want {
				t.Errorf("Propagation = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestEvalConcurrent evaluates one service from many goroutines, as the
// executor does for parallel batches; run with -race to check it.
func TestEvalConcurrent(t *testing.T) {
	s := loadValid(t, "canary.ns.hcl").Services["payments"]
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			iv := InstanceVars{Address: addr("10.0.0.1", 8000+i), Group: "canary", Version: "v", Service: "payments"}
			argv, _, d := s.EvalDeploy(iv)
			u, _ := s.EvalHealthURL(iv)
			if d.HasErrors() || len(argv) != 6 || u != fmt.Sprintf("http://10.0.0.1:%d/healthz", 8000+i) {
				errs <- fmt.Sprintf("instance %d: argv %q, url %q, %v", i, argv, u, d)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// BenchmarkLoad measures loading the full language example.
func BenchmarkLoad(b *testing.B) {
	src, err := os.ReadFile("testdata/valid/language_example.ns.hcl")
	if err != nil {
		b.Fatal(err)
	}
	files := map[string][]byte{"main.ns.hcl": src}
	opts := LoadOptions{Getenv: testEnv}
	for b.Loop() {
		if _, d := LoadFiles("", files, opts); d.HasErrors() {
			b.Fatal(d.Error())
		}
	}
}
