package aliyun

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden request files under testdata/requests")

const (
	testKeyID     = "LTAI5tExampleKeyID"
	testKeySecret = "example-secret"
)

// reply is one scripted answer of the fake API: the action it expects, the HTTP
// status and the fixture file (under testdata/) it answers with.
type reply struct {
	action string
	status int
	file   string
}

// fakeAPI is an httptest server that replays fixtures in order, checks each
// request's signature like the service would, and records the requests.
type fakeAPI struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	replies []reply
	log     []string
}

func newFakeAPI(t *testing.T, replies ...reply) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		f.t.Errorf("request query %q: %v", r.URL.RawQuery, err)
	}
	f.log = append(f.log, describeRequest(r, q))
	if got, want := q.Get("Signature"), serverSignature(r.Method, q); got != want {
		f.t.Errorf("%s: Signature %q, the service would compute %q", q.Get("Action"), got, want)
	}
	if len(f.replies) == 0 {
		f.t.Errorf("unexpected request %s", q.Get("Action"))
		http.Error(w, "no reply scripted", http.StatusInternalServerError)
		return
	}
	next := f.replies[0]
	f.replies = f.replies[1:]
	if got := q.Get("Action"); got != next.action {
		f.t.Errorf("request %s, expected %s", got, next.action)
	}
	body, err := os.ReadFile(filepath.Join("testdata", next.file))
	if err != nil {
		f.t.Fatalf("fixture: %v", err)
	}
	if strings.HasSuffix(next.file, ".html") {
		w.Header().Set("Content-Type", "text/html")
	} else {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
	}
	w.WriteHeader(next.status)
	_, _ = w.Write(body)
}

// serverSignature recomputes the signature from the parameters as received,
// Signature left out.
func serverSignature(method string, q url.Values) string {
	rest := url.Values{}
	for k, v := range q {
		if k != "Signature" {
			rest[k] = v
		}
	}
	return rpcSignature(method, canonicalQuery(rest), testKeySecret)
}

// describeRequest renders a request for a golden file: method, path, the headers
// nonstop sets, then every query parameter on its own line, sorted.
func describeRequest(r *http.Request, q url.Values) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.Path)
	for _, h := range []string{"Accept", "User-Agent", "Content-Type"} {
		if v := r.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, v)
		}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range q[k] {
			fmt.Fprintf(&b, "  %s=%s\n", k, v)
		}
	}
	return b.String()
}

// done checks every scripted reply was used and compares the requests with the
// golden file testdata/requests/NAME.golden.
func (f *fakeAPI) done(t *testing.T, name string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.replies) != 0 {
		t.Errorf("%d scripted replies unused, next %s", len(f.replies), f.replies[0].action)
	}
	got := strings.Join(f.log, "\n")
	path := filepath.Join("testdata", "requests", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("requests differ from %s (-want +got):\n%s", path, d)
	}
}

// testClock fixes Timestamp, SignatureNonce and ClientToken so requests are
// reproducible.
func testClock(c *rpcClient) {
	c.now = func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }
	n := 0
	c.nonce = func() string { n++; return fmt.Sprintf("3ee8c1b8-83d3-44af-a94f-4e0ad82fd6%02d", n) }
}
