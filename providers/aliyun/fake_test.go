package aliyun

import (
	"flag"
	"fmt"
	"io"
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

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden request files under testdata/requests")

const (
	testKeyID     = "LTAI5tExampleKeyID"
	testKeySecret = "example-secret"
	testToken     = "CAIS8QF1q6Ft5B2yfSjIr5D/Example+SecurityToken=="
)

// reply is one scripted answer of the fake API: the action it expects, the HTTP
// status and the fixture file (under testdata/) it answers with.
type reply struct {
	action string
	status int
	file   string
}

// fakeAPI is an httptest server that replays fixtures in order, checks each
// request like the service would (the signature with the secret of keyID, the
// security token, a fresh nonce, a current timestamp) and records the requests.
type fakeAPI struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	replies []reply
	log     []string
	nonces  map[string]bool
	// The credentials requests must be signed with: testKeyID and testKeySecret
	// with no security token unless a test says otherwise.
	keyID, keySecret, token string
}

func newFakeAPI(t *testing.T, replies ...reply) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, replies: replies, nonces: map[string]bool{}, keyID: testKeyID, keySecret: testKeySecret}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// expect sets the credentials the following requests must be signed with.
func (f *fakeAPI) expect(keyID, keySecret, token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keyID, f.keySecret, f.token = keyID, keySecret, token
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		f.t.Errorf("request query %q: %v", r.URL.RawQuery, err)
	}
	body, _ := io.ReadAll(r.Body)
	f.log = append(f.log, describeRequest(r, q, body))
	action := q.Get("Action")
	if got, want := q.Get("Signature"), serverSignature(r.Method, q, f.keySecret); got != want {
		f.t.Errorf("%s: Signature %q, the service would compute %q", action, got, want)
	}
	if got := q.Get("AccessKeyId"); got != f.keyID {
		f.t.Errorf("%s: AccessKeyId %q, want %q", action, got, f.keyID)
	}
	if got, ok := q["SecurityToken"]; (f.token == "") != !ok || (ok && got[0] != f.token) {
		f.t.Errorf("%s: SecurityToken %q, want %q", action, got, f.token)
	}
	if n := q.Get("SignatureNonce"); n == "" || f.nonces[n] {
		f.t.Errorf("%s: SignatureNonce %q is empty or used before", action, n)
	} else {
		f.nonces[n] = true
	}
	if ts, err := time.Parse("2006-01-02T15:04:05Z", q.Get("Timestamp")); err != nil || time.Since(ts).Abs() > 15*time.Minute {
		f.t.Errorf("%s: Timestamp %q is not the current UTC time in ISO 8601 (%v)", action, q.Get("Timestamp"), err)
	}
	if len(f.replies) == 0 {
		f.t.Errorf("unexpected request %s", action)
		http.Error(w, "no reply scripted", http.StatusInternalServerError)
		return
	}
	next := f.replies[0]
	f.replies = f.replies[1:]
	if action != next.action {
		f.t.Errorf("request %s, expected %s", action, next.action)
	}
	answer, err := os.ReadFile(filepath.Join("testdata", next.file))
	if err != nil {
		f.t.Fatalf("fixture: %v", err)
	}
	if strings.HasSuffix(next.file, ".html") {
		w.Header().Set("Content-Type", "text/html")
	} else {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
	}
	w.WriteHeader(next.status)
	_, _ = w.Write(answer)
}

// serverSignature recomputes the signature from the parameters as received,
// Signature left out.
func serverSignature(method string, q url.Values, secret string) string {
	rest := url.Values{}
	for k, v := range q {
		if k != "Signature" {
			rest[k] = v
		}
	}
	return rpcSignature(method, canonicalQuery(rest), secret)
}

// checked stands in the golden files for the parameters that change with every
// request and that serve checks instead.
var checked = map[string]string{
	"Signature":      "(checked: the service's signature of this request)",
	"SignatureNonce": "(checked: not used before)",
	"Timestamp":      "(checked: now, UTC)",
}

// describeRequest renders a request for a golden file: method, path, the headers
// that say what is sent (the SDK's User-Agent shortened to what nonstop adds),
// every query parameter on its own line, sorted, and the body if any.
func describeRequest(r *http.Request, q url.Values, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.Path)
	for _, h := range []string{"Accept", "Content-Type", "User-Agent", "X-Acs-Credentials-Provider"} {
		v := r.Header.Get(h)
		if h == "User-Agent" {
			v = strings.Replace(v, sdk.DefaultUserAgent, "(SDK)", 1)
		}
		if v != "" {
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
			if c, ok := checked[k]; ok {
				v = c
			}
			fmt.Fprintf(&b, "  %s=%s\n", k, v)
		}
	}
	if len(body) > 0 {
		fmt.Fprintf(&b, "body: %s\n", body)
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
