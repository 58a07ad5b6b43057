package views

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor"
)

// sampleReport is a release of two services: order-service rolls over four
// instances in two groups, read back on nginx, HAProxy and the registry;
// payment-service's canary fails its gate and rolls back.
func sampleReport() Report {
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	a := []string{"127.0.0.1:18081", "127.0.0.1:18082"}
	bb := []string{"127.0.0.1:18083", "127.0.0.1:18084"}
	tl := &executor.Timeline{Started: t0, EndMS: 52000, Outcome: "Apply failed: 1 service applied, 1 rolled back (payment-service).", Failed: true,
		Commit: "3f2c1e9a7b", By: "ci-bot@runner-7",
		Services: []executor.TimelineService{
			{Name: "order-service", From: "1.0.0", To: "1.1.0", Groups: []executor.TimelineGroup{{Name: "a", Instances: a}, {Name: "b", Instances: bb}}},
			{Name: "payment-service", From: "2.3.0", To: "2.4.0", Groups: []executor.TimelineGroup{{Name: "stable", Instances: []string{"127.0.0.1:19081"}}, {Name: "canary", Instances: []string{"127.0.0.1:19082"}}}},
		}}
	n := 0
	add := func(svc, group, addr, kind, detail string, start, end int64, result string, rollback bool) {
		n++
		target := svc
		if addr != "" {
			target = svc + "/" + group + "/" + addr
		} else if group != "" {
			target = svc + "/" + group
		}
		s := executor.TimelineStep{ID: fmt.Sprintf("%s.%d", svc, n), Kind: kind, Service: svc, Group: group, Address: addr, Target: target,
			Detail: detail, StartMS: start, EndMS: end, Result: result, Rollback: rollback}
		if result == executor.StepFailed {
			s.Error = "analysis error_rate: value 0.09 is above max_value 0.01"
		}
		tl.Steps = append(tl.Steps, s)
	}
	at := int64(0)
	for _, g := range []struct {
		name  string
		addrs []string
	}{{"a", a}, {"b", bb}} {
		for _, addr := range g.addrs {
			add("order-service", g.name, addr, "balancer.set_weight", "weight 0", at, at+300, executor.StepDone, false)
			add("order-service", g.name, addr, "registry.set_enabled", "disabled", at, at+200, executor.StepDone, false)
			add("order-service", g.name, addr, "wait.propagation", "2s", at+300, at+2300, executor.StepDone, false)
			add("order-service", g.name, addr, "wait.drain", "5s", at+2300, at+3100, executor.StepDone, false)
			add("order-service", g.name, addr, "deploy", "1.0.0 → 1.1.0", at+3100, at+7200, executor.StepDone, false)
			add("order-service", g.name, addr, "wait.healthy", "30s", at+7200, at+8400, executor.StepDone, false)
			add("order-service", g.name, addr, "verify", "", at+8400, at+8500, executor.StepDone, false)
			add("order-service", g.name, addr, "balancer.set_weight", "weight 1", at+8500, at+9700, executor.StepDone, false)
			add("order-service", g.name, addr, "registry.set_enabled", "enabled", at+8500, at+8700, executor.StepDone, false)
			at += 5000
		}
	}
	add("payment-service", "canary", "127.0.0.1:19082", "deploy", "2.3.0 → 2.4.0", 1000, 5000, executor.StepDone, false)
	add("payment-service", "canary", "", "balancer.switch", "127.0.0.1:19081=9 127.0.0.1:19082=1", 5000, 5600, executor.StepDone, false)
	add("payment-service", "", "", "pause", "10s", 5600, 15600, executor.StepDone, false)
	add("payment-service", "", "", "gate.analysis", "error_rate", 15600, 16100, executor.StepFailed, false)
	add("payment-service", "canary", "", "balancer.switch", "127.0.0.1:19081=1 127.0.0.1:19082=0", 16200, 16900, executor.StepDone, true)
	add("payment-service", "canary", "127.0.0.1:19082", "deploy", "2.4.0 → 2.3.0", 16900, 20500, executor.StepDone, true)
	v := 0.09
	tl.Gates = []executor.GateValue{{T: 16000, StepID: "payment-service.40", Service: "payment-service", Analysis: "error_rate", Value: &v, Max: 0.01, Result: "fail"}}
	tl.Marks = []executor.TimelineMark{
		{T: 16100, Service: "payment-service", Kind: executor.EventRollbackStart, Message: "payment-service: payment-service.40 failed; rolling back"},
		{T: 20500, Service: "payment-service", Kind: executor.EventRollbackComplete, Message: "payment-service: rolled back"},
		{T: 30000, Service: "order-service", Kind: "warning", Message: "order-service: 127.0.0.1:18083 registered itself enabled before its health and verify gates passed; nonstop disabled it"},
	}
	// The pools as read back: one member out at a time.
	pool := func(kind, provider, name string) executor.TrafficSeries {
		s := executor.TrafficSeries{Kind: kind, Provider: provider, Pool: name, Service: "order-service"}
		for i := 0; i <= 4; i++ {
			t := int64(i) * 5000
			ga := executor.GroupTraffic{Group: "a", Members: 2, Serving: 2, Weight: 2}
			gb := executor.GroupTraffic{Group: "b", Members: 2, Serving: 2, Weight: 2}
			switch {
			case i < 2:
				ga.Serving, ga.Weight = 1, 1
			case i < 4:
				gb.Serving, gb.Weight = 1, 1
			}
			s.Samples = append(s.Samples, executor.TrafficSample{T: t + 300, U: t + 3000, Groups: []executor.GroupTraffic{ga, gb}})
		}
		return s
	}
	tl.Traffic = []executor.TrafficSeries{pool("balancer", "nginx.edge", "order_backend"), pool("balancer", "haproxy.lb", "web"), pool("registry", "polaris.main", "order-service"),
		{Kind: "balancer", Provider: "haproxy.lb", Pool: "payment", Service: "payment-service", Samples: []executor.TrafficSample{
			{T: 5000, U: 5600, Groups: []executor.GroupTraffic{{Group: "canary", Members: 1, Serving: 1, Weight: 1}, {Group: "stable", Members: 1, Serving: 1, Weight: 9}}},
			{T: 16200, U: 16900, Groups: []executor.GroupTraffic{{Group: "canary", Members: 1, Serving: 0, Weight: 0}, {Group: "stable", Members: 1, Serving: 1, Weight: 1}}},
		}}}
	return Report{ApplyID: "20250304T100000Z-1a2b3c4d", Timeline: tl, Releases: []ReportRelease{
		{Service: "order-service", From: "1.0.0", To: "1.1.0", Result: "success"},
		{Service: "payment-service", From: "2.3.0", To: "2.4.0", Result: "rolled_back"},
	}}
}

func renderReport(t *testing.T, r Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteReport(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestReportIsSelfContained: nothing is fetched from anywhere, and every step has
// its bar and its row.
func TestReportIsSelfContained(t *testing.T) {
	r := sampleReport()
	page := renderReport(t, r)
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<(link|img|iframe|object|embed)\b`), regexp.MustCompile(`(?i)\bsrc\s*=`),
		regexp.MustCompile(`(?i)href\s*=\s*"(https?:)?//`), regexp.MustCompile(`(?i)@import|url\(\s*['"]?(https?:)?//`),
		regexp.MustCompile(`(?i)\b(fetch|XMLHttpRequest|WebSocket)\b`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("the report loads something from elsewhere: %q", m)
		}
	}
	for i, s := range r.Timeline.Steps {
		for _, want := range []string{fmt.Sprintf(`data-step="%s" data-i="%d"`, s.ID, i), fmt.Sprintf(`data-step-row="%s" data-i="%d"`, s.ID, i)} {
			if !strings.Contains(page, want) {
				t.Errorf("no %s in the report", want)
			}
		}
	}
	for _, want := range []string{"3f2c1e9a7b", "ci-bot@runner-7", "20250304T100000Z-1a2b3c4d", "error_rate 0.09 &gt; 0.01",
		"rolled back", "mark-rollback", "nginx.edge / order_backend", "registry polaris.main: order-service", "fewest members serving: 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
}

// TestReportWithoutTimeline says why there is nothing to draw.
func TestReportWithoutTimeline(t *testing.T) {
	page := renderReport(t, Report{ApplyID: "x", Releases: []ReportRelease{{Service: "s", From: "1", To: "2", Result: "interrupted"}}})
	if !strings.Contains(page, `id="no-timeline"`) || !strings.Contains(page, "interrupted") {
		t.Errorf("report without a timeline:\n%s", page)
	}
}

// chromium finds Debian's chromium (or another Chrome) for the rendering test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium to render the release report in (Debian: apt-get install -y chromium; .ci/run installs it): skipping the rendering check")
	return ""
}

// headless runs chromium headless on a local file with extra flags and returns
// its standard output.
func headless(t *testing.T, bin, page string, flags ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--no-default-browser-check", "--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--window-size=1280,2200"}, flags...)
	args = append(args, "file://"+page)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// TestReportRendersInChromium renders a report in headless Chromium: the
// screenshot is not blank, and the DOM Chromium built shows every step.
func TestReportRendersInChromium(t *testing.T) {
	bin := chromium(t)
	r := sampleReport()
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, []byte(renderReport(t, r)), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	headless(t, bin, page, "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	mean, variance, coloured := pixelStats(img)
	t.Logf("screenshot %v: mean luminance %.1f, variance %.1f, %.1f%% coloured pixels", img.Bounds().Size(), mean, variance, coloured*100)
	if variance < 200 {
		t.Errorf("the screenshot is blank or nearly so: luminance variance %.1f", variance)
	}
	if coloured < 0.01 {
		t.Errorf("only %.2f%% of the screenshot's pixels are coloured: the charts did not render", coloured*100)
	}
	if out := os.Getenv("NONSTOP_REPORT_SCREENSHOT"); out != "" {
		data, _ := os.ReadFile(shot)
		if err := os.WriteFile(out, data, 0o644); err != nil {
			t.Error(err)
		}
	}

	dom := string(headless(t, bin, page, "--dump-dom"))
	bars := regexp.MustCompile(`<g class="bar[^"]*" data-step="([^"]+)" data-i="(\d+)"`).FindAllStringSubmatch(dom, -1)
	rows := regexp.MustCompile(`<tr data-step-row="([^"]+)" data-i="(\d+)"`).FindAllStringSubmatch(dom, -1)
	if len(bars) != len(r.Timeline.Steps) || len(rows) != len(r.Timeline.Steps) {
		t.Errorf("the DOM has %d step bars and %d step rows, want %d of each", len(bars), len(rows), len(r.Timeline.Steps))
	}
	seen := map[string]bool{}
	for _, m := range bars {
		seen[m[1]] = true
	}
	for _, s := range r.Timeline.Steps {
		if !seen[s.ID] {
			t.Errorf("the DOM shows no bar for step %s", s.ID)
		}
	}
	for _, want := range []string{`id="steps-chart"`, `id="traffic"`, `id="gates"`, `id="events"`, "payment-service: rolled back"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM has no %s", want)
		}
	}
}

// pixelStats returns the mean and variance of the luminance of img and the share
// of its pixels that are coloured (not grey).
func pixelStats(img image.Image) (mean, variance, coloured float64) {
	b := img.Bounds()
	var sum, sum2 float64
	var n, col int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			r8, g8, b8 := float64(r>>8), float64(g>>8), float64(bl>>8)
			l := 0.299*r8 + 0.587*g8 + 0.114*b8
			sum += l
			sum2 += l * l
			n++
			if max(r8, g8, b8)-min(r8, g8, b8) > 40 {
				col++
			}
		}
	}
	mean = sum / float64(n)
	return mean, sum2/float64(n) - mean*mean, float64(col) / float64(n)
}
