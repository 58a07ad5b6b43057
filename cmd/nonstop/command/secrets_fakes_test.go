package command

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // what Alibaba Cloud's signature version 1.0 prescribes
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// credentialFakes are a Nacos server, a BIG-IP and the SLB API in one test
// process, each holding a pool (or service) of the same instances, that accept
// only the credentials they were given: a test then knows every secret reached
// its provider. Each instance's version is the file deployedDir/ADDRESS its deploy
// command writes (initialVersion before).
type credentialFakes struct {
	t              *testing.T
	deployedDir    string
	initialVersion string
	instances      []string // host:port of the instances' health servers

	nacosUser, nacosPassword string
	f5User, f5Password       string
	slbKeyID, slbKeySecret   string
	// tokens the fakes hand out after a login: secrets too, though not configured.
	nacosToken, f5Token string

	nacos, f5, slb *httptest.Server

	mu       sync.Mutex
	enabled  map[string]bool       // registry
	ratio    map[string]int        // F5
	session  map[string]string     // F5
	slbW     map[string]int        // SLB
	accepted map[string]int        // logins / signatures accepted, by fake
	refused  []string              // requests refused for their credentials
	failSLB  func(weight int) bool // SetVServerGroupAttribute fails when it returns true
}

// startCredentialFakes starts the fakes and n instances answering /health.
func startCredentialFakes(t *testing.T, n int, initialVersion string, creds map[string]string) *credentialFakes {
	t.Helper()
	f := &credentialFakes{t: t, deployedDir: t.TempDir(), initialVersion: initialVersion,
		nacosUser: "nacos", nacosPassword: creds["nacos_password"],
		f5User: "admin", f5Password: creds["f5_password"],
		slbKeyID: creds["aliyun_key_id"], slbKeySecret: creds["aliyun_key_secret"],
		nacosToken: creds["nacos_token"], f5Token: creds["f5_token"],
		enabled: map[string]bool{}, ratio: map[string]int{}, session: map[string]string{}, slbW: map[string]int{},
		accepted: map[string]int{}}
	for range n {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "ok")
		}))
		t.Cleanup(srv.Close)
		addr := srv.Listener.Addr().String()
		f.instances = append(f.instances, addr)
		f.enabled[addr], f.ratio[addr], f.session[addr], f.slbW[addr] = true, 1, "user-enabled", 1
	}
	f.nacos = httptest.NewServer(http.HandlerFunc(f.serveNacos))
	f.f5 = httptest.NewServer(http.HandlerFunc(f.serveF5))
	f.slb = httptest.NewServer(http.HandlerFunc(f.serveSLB))
	t.Cleanup(f.nacos.Close)
	t.Cleanup(f.f5.Close)
	t.Cleanup(f.slb.Close)
	return f
}

// version returns the version an instance runs: what its last deploy wrote.
func (f *credentialFakes) version(addr string) string {
	b, err := os.ReadFile(filepath.Join(f.deployedDir, addr))
	if err != nil {
		return f.initialVersion
	}
	return strings.TrimSpace(string(b))
}

// refuse answers status and records a request whose credentials were wrong.
func (f *credentialFakes) refuse(w http.ResponseWriter, status int, what string) {
	f.refused = append(f.refused, what)
	http.Error(w, `{"message":"authentication failed"}`, status)
}

func (f *credentialFakes) serveNacos(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.URL.Path == "/nacos/v1/auth/login" {
		if r.PostForm.Get("username") != f.nacosUser || r.PostForm.Get("password") != f.nacosPassword {
			f.refuse(w, http.StatusForbidden, "nacos login")
			return
		}
		f.accepted["nacos"]++
		json.NewEncoder(w).Encode(map[string]any{"accessToken": f.nacosToken, "tokenTtl": 18000})
		return
	}
	if r.Form.Get("accessToken") != f.nacosToken {
		f.refuse(w, http.StatusForbidden, "nacos "+r.URL.Path)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/nacos/v1/ns/catalog/instances":
		list := []map[string]any{}
		for _, addr := range f.instances {
			host, port, _ := net.SplitHostPort(addr)
			p, _ := strconv.Atoi(port)
			list = append(list, map[string]any{"ip": host, "port": p, "weight": 1, "healthy": true, "enabled": f.enabled[addr],
				"ephemeral": true, "clusterName": "DEFAULT", "metadata": map[string]string{"version": f.version(addr)}})
		}
		json.NewEncoder(w).Encode(map[string]any{"list": list, "count": len(list)})
	case r.Method == http.MethodPut && r.URL.Path == "/nacos/v1/ns/instance":
		addr := net.JoinHostPort(r.PostForm.Get("ip"), r.PostForm.Get("port"))
		f.enabled[addr] = r.PostForm.Get("enabled") == "true"
		fmt.Fprint(w, "ok")
	default:
		http.NotFound(w, r)
	}
}

func (f *credentialFakes) serveF5(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	const pool = "/mgmt/tm/ltm/pool/~Common~web/members"
	if r.URL.Path == "/mgmt/shared/authn/login" {
		var login struct{ Username, Password string }
		if json.NewDecoder(r.Body).Decode(&login) != nil || login.Username != f.f5User || login.Password != f.f5Password {
			f.refuse(w, http.StatusUnauthorized, "f5 login")
			return
		}
		f.accepted["f5"]++
		json.NewEncoder(w).Encode(map[string]any{"token": map[string]any{"token": f.f5Token, "timeout": 1200}})
		return
	}
	if r.Header.Get("X-F5-Auth-Token") != f.f5Token {
		f.refuse(w, http.StatusUnauthorized, "f5 "+r.URL.Path)
		return
	}
	switch {
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/mgmt/shared/authz/tokens/"):
		fmt.Fprint(w, "{}")
	case r.Method == http.MethodGet && r.URL.Path == pool:
		items := []map[string]any{}
		for _, addr := range f.instances {
			host, _, _ := net.SplitHostPort(addr)
			items = append(items, map[string]any{"name": addr, "fullPath": "/Common/" + addr, "partition": "Common",
				"address": host, "ratio": f.ratio[addr], "session": f.session[addr], "state": "up"})
		}
		json.NewEncoder(w).Encode(map[string]any{"kind": "tm:ltm:pool:members:memberscollectionstate", "items": items})
	case r.Method == http.MethodGet && r.URL.Path == pool+"/stats":
		entries := map[string]any{}
		for _, addr := range f.instances {
			entries["https://localhost"+pool+"/~Common~"+addr+"/stats"] = map[string]any{"nestedStats": map[string]any{"entries": map[string]any{
				"serverside.curConns":      map[string]any{"value": 0},
				"status.availabilityState": map[string]any{"description": "available"},
			}}}
		}
		json.NewEncoder(w).Encode(map[string]any{"entries": entries})
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, pool+"/~Common~"):
		addr := strings.TrimPrefix(r.URL.Path, pool+"/~Common~")
		var p struct {
			Ratio   int    `json:"ratio"`
			Session string `json:"session"`
		}
		if json.NewDecoder(r.Body).Decode(&p) != nil || f.session[addr] == "" {
			http.Error(w, `{"message":"bad member"}`, http.StatusBadRequest)
			return
		}
		if p.Ratio != 0 {
			f.ratio[addr] = p.Ratio
		}
		if p.Session != "" {
			f.session[addr] = p.Session
		}
		fmt.Fprint(w, "{}")
	default:
		http.NotFound(w, r)
	}
}

func (f *credentialFakes) serveSLB(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	if q.Get("AccessKeyId") != f.slbKeyID || q.Get("Signature") != slbSignature(r.Method, q, f.slbKeySecret) {
		// As the real API answers, quoting what it signed, the AccessKey ID included.
		f.refused = append(f.refused, "slb "+q.Get("Action"))
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"Code": "SignatureDoesNotMatch", "RequestId": "r-1",
			"Message": "Specified signature is not matched with our calculation. server string to sign is:" + r.Method + "&%2F&" + url.QueryEscape(q.Encode())})
		return
	}
	f.accepted["slb"]++
	group := func() map[string]any {
		servers := []map[string]any{}
		for i, addr := range f.instances {
			host, port, _ := net.SplitHostPort(addr)
			servers = append(servers, map[string]any{"ServerId": fmt.Sprintf("i-%d", i), "ServerIp": host, "Port": port,
				"Weight": f.slbW[addr], "Type": "ecs"})
		}
		return map[string]any{"RequestId": "r-2", "VServerGroupId": "rsp-web", "LoadBalancerId": "lb-1",
			"BackendServers": map[string]any{"BackendServer": servers}}
	}
	switch q.Get("Action") {
	case "DescribeVServerGroupAttribute":
		json.NewEncoder(w).Encode(group())
	case "DescribeHealthStatus":
		servers := []map[string]any{}
		for _, addr := range f.instances {
			host, port, _ := net.SplitHostPort(addr)
			servers = append(servers, map[string]any{"ServerIp": host, "Port": port, "ListenerPort": 80, "ServerHealthStatus": "normal"})
		}
		json.NewEncoder(w).Encode(map[string]any{"RequestId": "r-3", "BackendServers": map[string]any{"BackendServer": servers}})
	case "SetVServerGroupAttribute":
		var changes []struct{ ServerId, Port, Weight string }
		if err := json.Unmarshal([]byte(q.Get("BackendServers")), &changes); err != nil {
			http.Error(w, `{"Code":"InvalidParameter","Message":"BackendServers"}`, http.StatusBadRequest)
			return
		}
		for _, c := range changes {
			i, _ := strconv.Atoi(strings.TrimPrefix(c.ServerId, "i-"))
			weight, _ := strconv.Atoi(c.Weight)
			if f.failSLB != nil && f.failSLB(weight) {
				w.WriteHeader(http.StatusBadRequest)
				json.NewEncoder(w).Encode(map[string]string{"Code": "Forbidden.Test", "RequestId": "r-4",
					"Message": "the test refuses weight " + c.Weight + " for the key " + f.slbKeyID})
				return
			}
			f.slbW[f.instances[i]] = weight
		}
		json.NewEncoder(w).Encode(group())
	default:
		http.Error(w, `{"Code":"InvalidAction"}`, http.StatusBadRequest)
	}
}

// slbSignature is the signature of a signature-version-1.0 request.
func slbSignature(method string, q url.Values, secret string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, rfc3986(k)+"="+rfc3986(q.Get(k)))
	}
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(method + "&" + rfc3986("/") + "&" + rfc3986(strings.Join(parts, "&"))))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// rfc3986 percent-encodes all but A-Z a-z 0-9 - _ . ~.
func rfc3986(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
