package aliyun

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers"
)

// chainEnv empties every variable the default credential chain reads, points
// HOME at an empty directory (no CLI or credentials file) and turns the ECS
// metadata lookup off (it would wait for 100.100.100.200), then sets vars.
func chainEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, k := range []string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_OIDC_TOKEN",
		"ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CONFIG_FILE", "ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_CREDENTIALS_URI",
		"ALIBABA_CLOUD_ECS_METADATA",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

// newChainSLB is an aliyun_slb provider of f's endpoint with no AccessKey in its
// block, or with the attributes given.
func newChainSLB(t *testing.T, f *fakeAPI, attrs ...string) *SLB {
	t.Helper()
	a := map[string]cty.Value{"region": cty.StringVal("cn-hangzhou"), "endpoint": cty.StringVal(f.srv.URL)}
	for i := 0; i+1 < len(attrs); i += 2 {
		a[attrs[i]] = cty.StringVal(attrs[i+1])
	}
	p, err := NewSLB(providers.Settings{Name: "web", Attrs: a})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*SLB)
}

var slbPoolReplies = []reply{
	{"DescribeVServerGroupAttribute", 200, "slb/describe_vserver_group_attribute.json"},
	{"DescribeHealthStatus", 200, "slb/describe_health_status.json"},
}

// TestCredentialSources reads a pool with credentials from each source the
// fake can check: the fake verifies every signature with the secret the source
// gives and requires its AccessKey ID and security token.
func TestCredentialSources(t *testing.T) {
	const envID, envSecret, envToken = "STS.NUgYrLnoC37mZZCNnAbez2iXo", "env-secret-8hT3", "CAISenvExampleSecurityToken"
	cases := map[string]struct {
		attrs             []string
		env               map[string]string
		id, secret, token string // what the requests must be signed with
		source            string // X-Acs-Credentials-Provider
	}{
		"block AccessKey": {
			attrs: []string{"access_key_id", testKeyID, "access_key_secret", testKeySecret},
			id:    testKeyID, secret: testKeySecret, source: "static_ak",
		},
		"block STS token": {
			attrs: []string{"access_key_id", testKeyID, "access_key_secret", testKeySecret, "security_token", testToken},
			id:    testKeyID, secret: testKeySecret, token: testToken, source: "static_sts",
		},
		"environment AccessKey": {
			env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": envID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": envSecret},
			id:  envID, secret: envSecret, source: "default/env",
		},
		"environment STS token": {
			env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": envID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": envSecret, "ALIBABA_CLOUD_SECURITY_TOKEN": envToken},
			id:  envID, secret: envSecret, token: envToken, source: "default/env",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			chainEnv(t, tc.env)
			f := newFakeAPI(t, slbPoolReplies...)
			f.expect(tc.id, tc.secret, tc.token)
			var seen atomic.Value
			inner := f.srv.Config.Handler
			f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen.Store(r.Header.Get("X-Acs-Credentials-Provider"))
				inner.ServeHTTP(w, r)
			})
			members, err := newChainSLB(t, f, tc.attrs...).Pool(context.Background(), rsp)
			if err != nil || len(members) != 3 {
				t.Fatalf("Pool: %d members, %v", len(members), err)
			}
			if got := seen.Load(); got != tc.source {
				t.Errorf("signed with credentials from %v, want %s", got, tc.source)
			}
		})
	}
}

// TestCredentialsFile reads the AccessKey from ~/.alibabacloud/credentials.
func TestCredentialsFile(t *testing.T) {
	chainEnv(t, nil)
	dir := filepath.Join(os.Getenv("HOME"), ".alibabacloud")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	file := "[default]\ntype = access_key\naccess_key_id = LTAI5tFileKey\naccess_key_secret = file-secret\n"
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFakeAPI(t, slbPoolReplies...)
	f.expect("LTAI5tFileKey", "file-secret", "")
	if _, err := newChainSLB(t, f).Pool(context.Background(), rsp); err != nil {
		t.Fatal(err)
	}
}

// TestCredentialsURI has the chain fetch temporary credentials from
// ALIBABA_CLOUD_CREDENTIALS_URI (an httptest server, the shape credentials-go
// reads): they sign the requests, and two reads of the pool (four requests)
// fetch them once, since they expire in an hour.
func TestCredentialsURI(t *testing.T) {
	var fetched atomic.Int32
	uri := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		json.NewEncoder(w).Encode(map[string]string{
			"Code": "Success", "AccessKeyId": "STS.uri-key", "AccessKeySecret": "uri-secret",
			"SecurityToken": "CAISuriExampleToken", "Expiration": time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05Z"),
		})
	}))
	defer uri.Close()
	chainEnv(t, map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": uri.URL})
	f := newFakeAPI(t, append(append([]reply{}, slbPoolReplies...), slbPoolReplies...)...)
	f.expect("STS.uri-key", "uri-secret", "CAISuriExampleToken")
	p := newChainSLB(t, f)
	for range 2 {
		if _, err := p.Pool(context.Background(), rsp); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetched.Load(); n != 1 {
		t.Errorf("credentials fetched %d times for two reads, want once", n)
	}
}

// TestNoCredentials configures a provider with no AccessKey anywhere: New
// succeeds (validate and plan files need none), the first call fails before
// any request naming where the chain looked, and once the environment has a
// key the next call uses it.
func TestNoCredentials(t *testing.T) {
	chainEnv(t, nil)
	f := newFakeAPI(t, slbPoolReplies...)
	p := newChainSLB(t, f)
	_, err := p.Pool(context.Background(), rsp)
	want := `aliyun_slb.web: vServer group "rsp-cige6j5e7p": no credentials: access_key_id and access_key_secret are not set and the default credential chain found none (it tries ` + chainSources + `): `
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %v, want one starting %q", err, want)
	}
	if len(f.log) != 0 {
		t.Errorf("%d requests sent without credentials", len(f.log))
	}
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", testKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", testKeySecret)
	if _, err := p.Pool(context.Background(), rsp); err != nil {
		t.Errorf("after the environment got a key: %v", err)
	}
}

// TestErrorsHideCredentials answers SignatureDoesNotMatch quoting the string
// the service signed, as the real API does (it holds the AccessKey ID and the
// security token): the error keeps the code and the request id and drops the
// credentials, whichever source gave them.
func TestErrorsHideCredentials(t *testing.T) {
	const chainID, chainSecret, chainToken = "STS.chainKeyId", "chain-secret", "CAIS/chain+Example=Token=="
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"RequestId": "R-1", "Code": "SignatureDoesNotMatch",
			"Message": "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&" + url.QueryEscape(r.URL.RawQuery)})
	}))
	defer srv.Close()
	cases := map[string]struct {
		attrs   []string
		env     map[string]string
		secrets []string
	}{
		"block": {attrs: []string{"access_key_id", testKeyID, "access_key_secret", testKeySecret, "security_token", testToken},
			secrets: []string{testKeyID, testKeySecret, testToken}},
		"chain": {env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": chainID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": chainSecret, "ALIBABA_CLOUD_SECURITY_TOKEN": chainToken},
			secrets: []string{chainID, chainSecret, chainToken}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			chainEnv(t, tc.env)
			a := map[string]cty.Value{"region": cty.StringVal("cn-hangzhou"), "endpoint": cty.StringVal(srv.URL)}
			for i := 0; i+1 < len(tc.attrs); i += 2 {
				a[tc.attrs[i]] = cty.StringVal(tc.attrs[i+1])
			}
			p, err := NewSLB(providers.Settings{Name: "web", Attrs: a})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.(*SLB).Pool(context.Background(), rsp)
			if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch: Specified signature is not matched") || !strings.Contains(err.Error(), "(request id R-1)") {
				t.Fatalf("error %v, want the API's code, message and request id", err)
			}
			for _, s := range tc.secrets {
				once := url.QueryEscape(s)
				for _, form := range []string{s, once, url.QueryEscape(once)} {
					if strings.Contains(err.Error(), form) {
						t.Errorf("the error shows %q: %v", form, err)
					}
				}
			}
			if !strings.Contains(err.Error(), "(redacted)") {
				t.Errorf("nothing redacted in %v: did the answer quote the request?", err)
			}
		})
	}
}
