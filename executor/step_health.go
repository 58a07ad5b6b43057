package executor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/planner"
)

// Health and verify defaults, as documented in the language.
const (
	defaultHealthInterval = time.Second
	defaultHealthTimeout  = 60 * time.Second
	defaultVerifyTimeout  = 10 * time.Second
	// bodyLimit bounds how much of a response body is read.
	bodyLimit = 1 << 20
)

// get fetches url and returns the status and up to bodyLimit bytes of the body.
func (x *execution) get(ctx context.Context, url string, timeout time.Duration) (int, string, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := x.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
	if err != nil {
		return resp.StatusCode, "", fmt.Errorf("reading the response of %s: %w", url, err)
	}
	return resp.StatusCode, string(body), nil
}

// waitHealthy runs wait.healthy: GET the health URL every interval until it answers
// the expected status, bounded by the health timeout; then, when the service has a
// registry, poll it until the instance is listed healthy with the target version
// (when the registry reveals versions), bounded by the health timeout again.
func (x *execution) waitHealthy(ctx context.Context, st *planner.Step) error {
	svc, iv, err := x.instance(st)
	if err != nil {
		return err
	}
	interval, timeout, expect := defaultHealthInterval, defaultHealthTimeout, http.StatusOK
	if h := svc.Health; h != nil {
		if h.Interval > 0 {
			interval = h.Interval
		}
		if h.Timeout > 0 {
			timeout = h.Timeout
		}
		if h.Expect != 0 {
			expect = h.Expect
		}
		url, d := svc.EvalHealthURL(iv)
		if d.HasErrors() {
			return d.Err()
		}
		if err := x.pollHealth(ctx, url, expect, interval, timeout); err != nil {
			return err
		}
	}
	if svc.Registry == nil {
		return nil
	}
	return x.waitRegistered(ctx, st, iv.Version, interval, timeout)
}

// pollHealth GETs url every interval until it answers expect or timeout passes.
func (x *execution) pollHealth(ctx context.Context, url string, expect int, interval, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		reqTimeout := max(min(interval, time.Until(deadline)), 100*time.Millisecond)
		status, _, err := x.get(ctx, url, reqTimeout)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			last = err.Error()
		case status == expect:
			return nil
		default:
			last = fmt.Sprintf("status %d", status)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("health check %s did not answer %d within %s (last: %s)", url, expect, timeout, last)
		}
		if err := sleep(ctx, min(interval, time.Until(deadline))); err != nil {
			return err
		}
	}
}

// waitRegistered polls the registry every interval (the health block's) until the
// instance is listed, healthy, and at version when the registry reveals the version.
func (x *execution) waitRegistered(ctx context.Context, st *planner.Step, version string, interval, timeout time.Duration) error {
	r, key, err := x.registryOf(st)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		in, found, err := findInstance(ctx, r, key, st.Args.Address)
		var last string
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			last = err.Error()
		case !found:
			last = "not registered"
		case !in.Healthy:
			last = "registered but not healthy"
		case in.VersionKnown && in.Version != version:
			last = fmt.Sprintf("registered with version %q", in.Version)
		default:
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("registry %s.%s does not show %s healthy at version %s within %s (last: %s)",
				r.Kind(), r.Name(), st.Args.Address, version, timeout, last)
		}
		if err := sleep(ctx, min(interval, time.Until(deadline))); err != nil {
			return err
		}
	}
}

// verify runs the verify block once against the instance: the status must be the
// expected one and the body must contain the expected text.
func (x *execution) verify(ctx context.Context, st *planner.Step) error {
	svc, iv, err := x.instance(st)
	if err != nil {
		return err
	}
	if svc.Verify == nil {
		return fmt.Errorf("service %s has no verify block", svc.Name)
	}
	url, contains, d := svc.EvalVerify(iv)
	if d.HasErrors() {
		return d.Err()
	}
	timeout, expect := svc.Verify.Timeout, svc.Verify.Expect
	if timeout <= 0 {
		timeout = defaultVerifyTimeout
	}
	if expect == 0 {
		expect = http.StatusOK
	}
	status, body, err := x.get(ctx, url, timeout)
	if err != nil {
		return fmt.Errorf("verify %s: %w", url, err)
	}
	if status != expect {
		return fmt.Errorf("verify %s answered status %d, want %d", url, status, expect)
	}
	if contains != "" && !strings.Contains(body, contains) {
		return fmt.Errorf("verify %s: the response does not contain %q (got %q)", url, contains, clip(body, 200))
	}
	return nil
}

// clip shortens s to n bytes for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
