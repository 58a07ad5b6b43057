package f5

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// clock is a settable time for token expiry.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestTokenRefresh logs in once, reuses the token until a tenth of its lifetime
// (at most a minute) before expiry, then logs in again.
func TestTokenRefresh(t *testing.T) {
	tests := map[string]struct {
		ttl       int           // token.timeout in seconds
		reuseAt   time.Duration // still the first token
		refreshAt time.Duration // a new login
	}{
		"default 1200 s": {ttl: 1200, reuseAt: 1139 * time.Second, refreshAt: 1140 * time.Second},
		"short 100 s":    {ttl: 100, reuseAt: 89 * time.Second, refreshAt: 90 * time.Second},
		"no timeout":     {ttl: 0, reuseAt: 1139 * time.Second, refreshAt: 1140 * time.Second},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fake := newFakeBigIP(t, false)
			fake.tokenTTL = tt.ttl
			p := newProvider(t, fake, nil)
			c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			p.now = c.now
			start := c.t
			list := get("/mgmt/tm/ltm/pool/~Common~web/members", "")
			for _, step := range []struct {
				at   time.Duration
				want []request
			}{
				{0, []request{login, withToken(list, "TOKEN1")}},
				{tt.reuseAt, []request{withToken(list, "TOKEN1")}},
				{tt.refreshAt, []request{login, withToken(list, "TOKEN2")}},
			} {
				c.t = start.Add(step.at)
				if _, err := p.members(context.Background(), "web"); err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(step.want, fake.seen()); d != "" {
					t.Errorf("at %v (-want +got):\n%s", step.at, d)
				}
			}
		})
	}
}

func withToken(r request, token string) request { r.Token = token; return r }

// TestTokenRevoked logs in again and retries once when the device no longer knows
// the token (deleted, or the device restarted).
func TestTokenRevoked(t *testing.T) {
	fake := newFakeBigIP(t, false)
	p := newProvider(t, fake, nil)
	ctx := context.Background()
	if _, err := p.members(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	fake.seen()
	fake.mu.Lock()
	delete(fake.tokens, "TOKEN1")
	fake.mu.Unlock()
	if _, err := p.members(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	list := get("/mgmt/tm/ltm/pool/~Common~web/members", "")
	want := []request{withToken(list, "TOKEN1"), login, withToken(list, "TOKEN2")}
	if d := cmp.Diff(want, fake.seen()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestBasicAuthFallback uses basic auth where the login endpoint is not registered,
// and does not try to log in again.
func TestBasicAuthFallback(t *testing.T) {
	fake := newFakeBigIP(t, false)
	fake.noLogin = true
	p := newProvider(t, fake, nil)
	ctx := context.Background()
	for range 2 {
		if _, err := p.Pool(ctx, "web"); err != nil {
			t.Fatal(err)
		}
	}
	basic := func(path string) request { return request{Method: "GET", Path: path, Basic: "nonstop:s3cret"} }
	want := []request{
		login,
		basic("/mgmt/tm/ltm/pool/~Common~web/members"),
		basic("/mgmt/tm/ltm/pool/~Common~web/members/stats"),
		basic("/mgmt/tm/ltm/pool/~Common~web/members"),
		basic("/mgmt/tm/ltm/pool/~Common~web/members/stats"),
	}
	if d := cmp.Diff(want, fake.seen()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close with basic auth: %v", err)
	}
	if r := fake.seen(); len(r) != 0 {
		t.Errorf("Close with basic auth sent %+v", r)
	}
}

// TestCloseDeletesToken deletes the token on Close, once.
func TestCloseDeletesToken(t *testing.T) {
	fake := newFakeBigIP(t, false)
	p := newProvider(t, fake, nil)
	if _, err := p.members(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
	fake.seen()
	for range 2 {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := []request{{Method: "DELETE", Path: "/mgmt/shared/authz/tokens/TOKEN1", Token: "TOKEN1"}}
	if d := cmp.Diff(want, fake.seen()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if fake.tokens["TOKEN1"] {
		t.Error("the fake still holds TOKEN1")
	}
}

// TestTLSVerification refuses the fake's self-signed certificate unless
// insecure_skip_verify is set.
func TestTLSVerification(t *testing.T) {
	fake := newFakeBigIP(t, true)
	p := newProvider(t, fake, map[string]cty.Value{"insecure_skip_verify": cty.False})
	_, err := p.Pool(context.Background(), "web")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("error = %v, want a certificate error", err)
	}
	p = newProvider(t, fake, map[string]cty.Value{"insecure_skip_verify": cty.True})
	if _, err := p.Pool(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentLogin logs in once when a refresh reads many pools at once.
func TestConcurrentLogin(t *testing.T) {
	fake := newFakeBigIP(t, false)
	p := newProvider(t, fake, nil)
	errs := make(chan error, 10)
	for range 10 {
		go func() { _, err := p.Pool(context.Background(), "web"); errs <- err }()
	}
	for range 10 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	logins := 0
	for _, r := range fake.seen() {
		if r.Path == login.Path {
			logins++
		}
	}
	if logins != 1 {
		t.Errorf("%d logins for 10 concurrent reads, want 1", logins)
	}
}
