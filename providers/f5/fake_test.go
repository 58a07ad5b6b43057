package f5

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// request is what the fake BIG-IP saw of one request.
type request struct {
	Method      string
	Path        string // escaped
	Query       string
	Token       string // X-F5-Auth-Token
	Basic       string // "user:password" of basic auth
	ContentType string
	Body        string
}

// fakeBigIP is an httptest server that answers the iControl REST calls the provider
// makes with the documented shapes of testdata/ (see testdata/README.md). Pools are
// keyed by their URL form ("~Common~web"); their members are the JSON objects of the
// fixture, PATCHed in place like a BIG-IP would.
type fakeBigIP struct {
	t        *testing.T
	srv      *httptest.Server
	user     string
	password string

	mu          sync.Mutex
	requests    []request
	noLogin     bool // the login endpoint is not registered (404): basic auth only
	tokenTTL    int  // seconds, the login answer's token.timeout
	tokens      map[string]bool
	issued      int
	pools       map[string][]map[string]any
	stats       map[string][]byte
	patchStatus int // when set, PATCH answers this status with state_400.json
	statsStatus int // when set, GET .../members/stats answers this status with stats_503.json
	proxyError  bool
}

func newFakeBigIP(t *testing.T, tls bool) *fakeBigIP {
	t.Helper()
	f := &fakeBigIP{t: t, user: "nonstop", password: "s3cret", tokenTTL: 1200,
		tokens: map[string]bool{}, pools: map[string][]map[string]any{}, stats: map[string][]byte{}}
	for _, pool := range []string{"web", "static"} {
		var list struct {
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal(fixture(t, "members_"+pool+".json"), &list); err != nil {
			t.Fatal(err)
		}
		f.pools["~Common~"+pool] = list.Items
		f.stats["~Common~"+pool] = fixture(t, "members_"+pool+"_stats.json")
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused TLS handshakes of TestTLSVerification
	if tls {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seen returns the requests so far and forgets them.
func (f *fakeBigIP) seen() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

func (f *fakeBigIP) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Token: r.Header.Get("X-F5-Auth-Token"), ContentType: r.Header.Get("Content-Type"), Body: string(body)}
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Basic ") {
		b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "Basic "))
		rec.Basic = string(b)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, rec)
	if f.proxyError {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write(fixture(f.t, "proxy_502.html"))
		return
	}
	switch {
	case r.URL.Path == "/mgmt/shared/authn/login":
		f.login(w, r, body)
	case !f.authorized(rec):
		f.answer(w, http.StatusUnauthorized, fixture(f.t, "token_401.json"))
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/mgmt/shared/authz/tokens/"):
		delete(f.tokens, strings.TrimPrefix(r.URL.Path, "/mgmt/shared/authz/tokens/"))
		f.answer(w, http.StatusOK, []byte(`{"token":"`+rec.Token+`","kind":"shared:authz:tokens:authtokenitemstate"}`))
	case strings.HasPrefix(r.URL.Path, "/mgmt/tm/ltm/pool/"):
		f.pool(w, r, body)
	default:
		f.answer(w, http.StatusNotFound, []byte(`{"code":404,"message":"Public URI path not registered: `+
			strings.TrimPrefix(r.URL.Path, "/mgmt")+`","errorStack":[],"apiError":1}`))
	}
}

func (f *fakeBigIP) answer(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(body)
}

// authorized accepts a live token, or basic auth when the fake has no login endpoint.
func (f *fakeBigIP) authorized(r request) bool {
	if r.Token != "" {
		return f.tokens[r.Token]
	}
	return f.noLogin && r.Basic == f.user+":"+f.password
}

func (f *fakeBigIP) login(w http.ResponseWriter, r *http.Request, body []byte) {
	if f.noLogin {
		f.answer(w, http.StatusNotFound, fixture(f.t, "uri_404.json"))
		return
	}
	var req loginRequest
	if r.Method != http.MethodPost || json.Unmarshal(body, &req) != nil || req.LoginProviderName != "tmos" ||
		req.Username != f.user || req.Password != f.password {
		f.answer(w, http.StatusUnauthorized, fixture(f.t, "login_401.json"))
		return
	}
	var ans map[string]any
	if err := json.Unmarshal(fixture(f.t, "login.json"), &ans); err != nil {
		f.t.Error(err)
	}
	f.issued++
	tok := fmt.Sprintf("TOKEN%d", f.issued)
	ans["token"].(map[string]any)["token"] = tok
	ans["token"].(map[string]any)["timeout"] = f.tokenTTL
	f.tokens[tok] = true
	b, _ := json.Marshal(ans)
	f.answer(w, http.StatusOK, b)
}

// pool serves GET .../members, GET .../members/stats and PATCH .../members/NAME.
func (f *fakeBigIP) pool(w http.ResponseWriter, r *http.Request, body []byte) {
	rest := strings.TrimPrefix(r.URL.Path, "/mgmt/tm/ltm/pool/")
	name, sub, _ := strings.Cut(rest, "/")
	members, ok := f.pools[name]
	if !ok {
		msg := strings.ReplaceAll(string(fixture(f.t, "pool_404.json")), "/Common/nope", strings.ReplaceAll(name, "~", "/"))
		f.answer(w, http.StatusNotFound, []byte(msg))
		return
	}
	switch {
	case r.Method == http.MethodGet && sub == "members":
		b, _ := json.Marshal(map[string]any{"kind": "tm:ltm:pool:members:memberscollectionstate", "items": members})
		f.answer(w, http.StatusOK, b)
	case r.Method == http.MethodGet && sub == "members/stats":
		if f.statsStatus != 0 {
			f.answer(w, f.statsStatus, fixture(f.t, "stats_503.json"))
			return
		}
		f.answer(w, http.StatusOK, f.stats[name])
	case r.Method == http.MethodPatch && strings.HasPrefix(sub, "members/~"):
		if f.patchStatus != 0 {
			f.answer(w, f.patchStatus, fixture(f.t, "state_400.json"))
			return
		}
		full := strings.ReplaceAll(strings.TrimPrefix(sub, "members/"), "~", "/")
		for _, m := range members {
			if m["fullPath"] == full {
				var p map[string]any
				if err := json.Unmarshal(body, &p); err != nil {
					f.answer(w, http.StatusBadRequest, []byte(`{"code":400,"message":"Found invalid JSON body in the request.","errorStack":[]}`))
					return
				}
				for k, v := range p {
					m[k] = v
				}
				b, _ := json.Marshal(m)
				f.answer(w, http.StatusOK, b)
				return
			}
		}
		f.answer(w, http.StatusNotFound, []byte(`{"code":404,"message":"01020036:3: The requested Pool Member (`+full+`) was not found.","errorStack":[],"apiError":3}`))
	default:
		f.answer(w, http.StatusNotFound, []byte(`{"code":404,"message":"Public URI path not registered","errorStack":[],"apiError":1}`))
	}
}
