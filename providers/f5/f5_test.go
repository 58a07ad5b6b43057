package f5

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// newProvider configures a provider for the fake, with extra attributes on top.
func newProvider(t *testing.T, fake *fakeBigIP, extra map[string]cty.Value) *F5 {
	t.Helper()
	attrs := map[string]cty.Value{
		"url":                  cty.StringVal(fake.srv.URL),
		"username":             cty.StringVal("nonstop"),
		"password":             cty.StringVal("s3cret"),
		"partition":            cty.StringVal("Common"),
		"insecure_skip_verify": cty.True,
	}
	for k, v := range extra {
		attrs[k] = v
	}
	p, err := New(providers.Settings{Name: "lb", Attrs: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*F5)
}

// login is the request the provider logs in with.
var login = request{Method: "POST", Path: "/mgmt/shared/authn/login", ContentType: "application/json",
	Body: `{"username":"nonstop","password":"s3cret","loginProviderName":"tmos"}`}

func get(path, token string) request { return request{Method: "GET", Path: path, Token: token} }

// TestPoolReadsMembers reads pool web (members_web.json and members_web_stats.json)
// and compares the members with testdata/pool_web.golden.json; it checks the exact
// requests: login, one list call, one stats call.
func TestPoolReadsMembers(t *testing.T) {
	fake := newFakeBigIP(t, true)
	p := newProvider(t, fake, nil)
	got, err := p.Pool(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.MarshalIndent(got, "", "  ")
	golden := filepath.Join("testdata", "pool_web.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(gotJSON, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(strings.TrimSpace(string(want)), string(gotJSON)); d != "" {
		t.Errorf("Pool(web) differs from %s (-want +got):\n%s", golden, d)
	}
	wantReqs := []request{
		login,
		get("/mgmt/tm/ltm/pool/~Common~web/members", "TOKEN1"),
		get("/mgmt/tm/ltm/pool/~Common~web/members/stats", "TOKEN1"),
	}
	if d := cmp.Diff(wantReqs, fake.seen()); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

// TestPoolPaths checks how pool names become URL paths: the partition attribute, a
// full path with a folder, and names that are refused before any request.
func TestPoolPaths(t *testing.T) {
	tests := map[string]struct {
		partition, pool string
		wantPath        string
		wantErr         string
	}{
		"in Common":     {partition: "Common", pool: "web", wantPath: "/mgmt/tm/ltm/pool/~Common~web/members"},
		"other":         {partition: "Prod", pool: "api_v2", wantPath: "/mgmt/tm/ltm/pool/~Prod~api_v2/members"},
		"full path":     {partition: "Prod", pool: "/Common/app.app/web", wantPath: "/mgmt/tm/ltm/pool/~Common~app.app~web/members"},
		"folder":        {partition: "Prod", pool: "app.app/web", wantPath: "/mgmt/tm/ltm/pool/~Prod~app.app~web/members"},
		"query in name": {partition: "Common", pool: "web?x=1", wantErr: `f5.lb: pool "web?x=1": "web?x=1" is not a valid F5 object name`},
		"tilde in name": {partition: "Common", pool: "~Common~web", wantErr: `f5.lb: pool "~Common~web": "~Common~web" is not a valid F5 object name`},
		"empty folder":  {partition: "Common", pool: "/Common//web", wantErr: `f5.lb: pool "/Common//web": "" is not a valid F5 object name`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fake := newFakeBigIP(t, false)
			p := newProvider(t, fake, map[string]cty.Value{"partition": cty.StringVal(tt.partition)})
			_, err := p.Pool(context.Background(), tt.pool)
			var paths []string
			for _, r := range fake.seen() {
				if r.Method == "GET" {
					paths = append(paths, r.Path)
				}
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				if len(paths) != 0 {
					t.Errorf("requests sent for a refused name: %v", paths)
				}
				return
			}
			if len(paths) == 0 || paths[0] != tt.wantPath {
				t.Errorf("list path = %v, want first %s", paths, tt.wantPath)
			}
		})
	}
}

// TestPoolErrors turns iControl REST error answers into errors naming provider and
// pool and carrying the device's message.
func TestPoolErrors(t *testing.T) {
	tests := map[string]struct {
		setup func(*fakeBigIP)
		pool  string
		want  string
	}{
		"unknown pool": {pool: "nope",
			want: `f5.lb: pool "nope": list members: HTTP 404 Not Found: 01020036:3: The requested Pool (/Common/nope) was not found.`},
		"wrong password": {pool: "web", setup: func(f *fakeBigIP) { f.password = "other" },
			want: `login as "nonstop" at 127.0.0.1`},
		"proxy page": {pool: "web", setup: func(f *fakeBigIP) { f.proxyError = true },
			want: `HTTP 502 Bad Gateway: 502 Proxy Error`},
		"stats refused": {pool: "web", setup: func(f *fakeBigIP) { f.stats["~Common~web"] = []byte(`[1,2]`) },
			want: `f5.lb: pool "web": member stats (connections and monitor status): GET /mgmt/tm/ltm/pool/~Common~web/members/stats: the answer is not the expected JSON`},
		"stats unavailable": {pool: "web", setup: func(f *fakeBigIP) { f.statsStatus = http.StatusServiceUnavailable },
			want: `f5.lb: pool "web": member stats (connections and monitor status): HTTP 503 Service Unavailable: Unable to process request /tm/ltm/pool/~Common~web/members/stats.  Service Unavailable.`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fake := newFakeBigIP(t, false)
			if tt.setup != nil {
				tt.setup(fake)
			}
			_, err := newProvider(t, fake, nil).Pool(context.Background(), tt.pool)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "originalRequestBody") {
				t.Errorf("error leaks the request: %v", err)
			}
		})
	}
}

// TestNewChecksSettings refuses bad attributes with the attribute named.
func TestNewChecksSettings(t *testing.T) {
	base := func() map[string]cty.Value {
		return map[string]cty.Value{"url": cty.StringVal("https://192.0.2.10"), "username": cty.StringVal("u"),
			"password": cty.StringVal("p"), "partition": cty.StringVal("Common"), "insecure_skip_verify": cty.False}
	}
	tests := map[string]struct {
		key  string
		val  cty.Value
		want string // "" for success
	}{
		"ok":                {want: ""},
		"port":              {key: "url", val: cty.StringVal("https://bigip.example.com:8443/"), want: ""},
		"no url":            {key: "url", val: cty.StringVal(""), want: "f5.lb: url: is required"},
		"ftp":               {key: "url", val: cty.StringVal("ftp://bigip"), want: `f5.lb: url: "ftp://bigip" must start with https:// (or http://)`},
		"bare host":         {key: "url", val: cty.StringVal("bigip.example.com"), want: `must start with https://`},
		"path":              {key: "url", val: cty.StringVal("https://bigip/mgmt/tm"), want: `must be the management address only`},
		"no username":       {key: "username", val: cty.StringVal(""), want: "f5.lb: username is required"},
		"bad partition":     {key: "partition", val: cty.StringVal("Com mon"), want: `f5.lb: partition: "Com mon" is not a partition name`},
		"insecure string":   {key: "insecure_skip_verify", val: cty.StringVal("yes"), want: "f5.lb: insecure_skip_verify: must be true or false"},
		"password unknown":  {key: "password", val: cty.UnknownVal(cty.String), want: "f5.lb: password: must be a string"},
		"unknown attribute": {key: "timeout", val: cty.StringVal("5s"), want: "f5.lb: timeout: unknown attribute"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			attrs := base()
			if tt.key != "" {
				attrs[tt.key] = tt.val
			}
			p, err := New(providers.Settings{Name: "lb", Attrs: attrs})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.Kind() != "f5" || p.Name() != "lb" {
					t.Errorf("Kind, Name = %s, %s", p.Kind(), p.Name())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %s", err, tt.want)
			}
		})
	}
}

// TestRegistered checks that the kind registers itself.
func TestRegistered(t *testing.T) {
	f, ok := providers.Lookup("f5")
	if !ok || f.Kind != "f5" {
		t.Fatalf("kind f5 not registered: %v", providers.Kinds())
	}
}
