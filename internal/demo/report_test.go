package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWithStrategy(t *testing.T) {
	in := "service \"s\" {\n  strategy \"rolling\" {\n    batch = \"group\"\n  }\n\n  on_failure = \"rollback\"\n}\n"
	out, err := WithStrategy([]byte(in), "strategy \"canary\" {\n  step { weight = 100 }\n}", "route \"beta\" {\n  version = \"1\"\n}")
	if err != nil {
		t.Fatal(err)
	}
	want := "service \"s\" {\n  strategy \"canary\" {\n    step { weight = 100 }\n  }\n\n  route \"beta\" {\n    version = \"1\"\n  }\n\n  on_failure = \"rollback\"\n}\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := WithStrategy([]byte("service \"s\" {}\n"), "x", ""); err == nil {
		t.Error("a text without a strategy block is not an error")
	}
}

func TestWriteVarFile(t *testing.T) {
	declared := DeclaredVariables([]byte("variable \"nacos\" {\n}\nvariable \"deploy_env\" {}\n  variable \"nested\" {}\n"))
	if len(declared) != 2 || !declared["nacos"] || !declared["deploy_env"] {
		t.Fatalf("declared %v", declared)
	}
	path := filepath.Join(t.TempDir(), "fleet.nsvars")
	err := WriteVarFile(path, declared, map[string]string{
		"nacos": HCLString("127.0.0.1:1"), "deploy_env": HCLMap(map[string]string{"B": "2", "A": "1"}), "other": `"x"`,
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if got := string(b); !strings.Contains(got, "deploy_env = { \"A\" = \"1\", \"B\" = \"2\" }\nnacos = \"127.0.0.1:1\"\n") || strings.Contains(got, "other") {
		t.Errorf("var file:\n%s", got)
	}
}

// TestWindowsAndLatency checks that a path's windows split its requests by
// send time, with versions, failures and latency percentiles.
func TestWindowsAndLatency(t *testing.T) {
	var gotHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader = r.Header.Get("X-Canary")
		if r.Header.Get("X-Fail") != "" {
			http.Error(w, "no", http.StatusBadGateway)
			return
		}
		w.Write([]byte("done 1.2.3\n"))
	}))
	defer srv.Close()
	p := HTTPPath("p", srv.URL).WithHeader("X-Canary", "1")
	p.once()
	p.once()
	mid := time.Now()
	p.WithHeader("X-Fail", "1").once()
	if gotHeader != "1" {
		t.Errorf("header %q", gotHeader)
	}
	all, before, after := p.Counts(), p.Window(time.Time{}, mid), p.Window(mid, time.Time{})
	if all.OK != 2 || all.Failed != 1 || before.OK != 2 || before.Failed != 0 || after.OK != 0 || after.Failed != 1 {
		t.Errorf("all %+v\nbefore %+v\nafter %+v", all, before, after)
	}
	if before.Versions["1.2.3"] != 2 || before.P50 <= 0 || before.P99 < before.P50 || len(before.Latencies) != 2 {
		t.Errorf("before %+v", before)
	}
	if len(after.Failures) != 1 || after.Failures[0].Status != http.StatusBadGateway {
		t.Errorf("after failures %+v", after.Failures)
	}
	if at, ok := p.FirstVersion("1.2.3", time.Time{}); !ok || at.After(mid) {
		t.Errorf("first 1.2.3 at %s, %t", at, ok)
	}
	if _, ok := p.FirstVersion("1.2.3", mid); ok {
		t.Error("1.2.3 answered after mid")
	}
	if fs := p.FailuresFrom(0); len(fs) != 1 {
		t.Errorf("FailuresFrom(0) = %v", fs)
	}
	m := Merge("all", before, after)
	if m.OK != 2 || m.Failed != 1 || m.P50 != before.P50 {
		t.Errorf("merged %+v", m)
	}
}

func TestPercentiles(t *testing.T) {
	var ls []time.Duration
	for i := 1; i <= 100; i++ {
		ls = append(ls, time.Duration(i)*time.Millisecond)
	}
	p50, p99, mx := percentiles(ls)
	if p50 != 50*time.Millisecond || p99 != 99*time.Millisecond || mx != 100*time.Millisecond {
		t.Errorf("p50 %s p99 %s max %s", p50, p99, mx)
	}
	if a, b, c := percentiles(nil); a != 0 || b != 0 || c != 0 {
		t.Error("percentiles of nothing")
	}
}

func TestResultTable(t *testing.T) {
	counts := []Counts{
		{Name: PathNginx, OK: 99, Failed: 1, Latencies: []time.Duration{20 * time.Millisecond}, P50: 20 * time.Millisecond, P99: 20 * time.Millisecond},
		{Name: PathRegistry, OK: 100, Latencies: []time.Duration{30 * time.Millisecond}, P50: 30 * time.Millisecond, P99: 30 * time.Millisecond},
	}
	floor := Floor{{What: "propagation", D: 4 * time.Second}, {What: "confirm a", D: 6 * time.Second}}
	r := NewResult("rolling", counts, counts, 11*time.Second, floor)
	if r.Requests != 200 || r.Failed != 1 || r.Ratio != 1.1 || r.MinimumS != 10 || r.P99ms != 30 {
		t.Errorf("result %+v", r)
	}
	if floor.String() != "propagation 4s + confirm a 6s" {
		t.Errorf("floor %s", floor)
	}
	table := Table("release", []Result{r, NewResult("naive", counts[:1], nil, time.Second, nil)})
	for _, want := range []string{"| release |", "failed (nginx / registry)", "| rolling |", "1 / 0", "30.0 ms (30.0)", "1.10 |", "1 / - "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
}

func TestAnalysisServer(t *testing.T) {
	var counts []Counts
	a, err := StartAnalysis(func(from, to time.Time) []Counts { return counts })
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	get := func() string {
		resp, err := http.Get(a.URL + "?query=x")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get(); !strings.Contains(got, `"result":[]`) {
		t.Errorf("no requests: %s", got)
	}
	counts = []Counts{{OK: 990, Failed: 10}}
	if got := get(); !strings.Contains(got, `"0.01"]`) {
		t.Errorf("1%% failed: %s", got)
	}
	if n, last := a.Queries(); n != 2 || !strings.HasPrefix(last, "0.01 ") {
		t.Errorf("queries %d, last %q", n, last)
	}
}
