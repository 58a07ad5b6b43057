package f5

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/providers"
)

// TestMemberAddress derives host:port from the address field and the member name.
func TestMemberAddress(t *testing.T) {
	tests := map[string]struct {
		name, address, fqdn string
		want                string
	}{
		"ipv4":            {name: "10.0.0.1:80", address: "10.0.0.1", want: "10.0.0.1:80"},
		"named node":      {name: "web-1.example.com:8443", address: "10.0.0.7", want: "10.0.0.7:8443"},
		"route domain":    {name: "10.0.0.4%2:80", address: "10.0.0.4%2", want: "10.0.0.4:80"},
		"ipv6":            {name: "2001:db8::5.8080", address: "2001:db8::5", want: "[2001:db8::5]:8080"},
		"ipv6 uncanon":    {name: "2001:DB8:0::5.8080", address: "2001:DB8:0::5", want: "[2001:db8::5]:8080"},
		"ipv6 rd":         {name: "2001:db8::5%3.443", address: "2001:db8::5%3", want: "[2001:db8::5]:443"},
		"fqdn node":       {name: "api:8080", address: "any6", fqdn: "API.example.com", want: "api.example.com:8080"},
		"no port in name": {name: "web1", address: "10.0.0.1", want: "10.0.0.1:"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			m := poolMember{Name: tt.name, Address: tt.address}
			m.FQDN.TmName = tt.fqdn
			if got := m.hostPort(); got != tt.want {
				t.Errorf("hostPort() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMemberState maps session and state onto nonstop's member states.
func TestMemberState(t *testing.T) {
	tests := map[string]struct {
		session, state string
		want           providers.MemberState
	}{
		"enabled up":             {"monitor-enabled", "up", providers.StateReady},
		"enabled unchecked":      {"user-enabled", "unchecked", providers.StateReady},
		"enabled checking":       {"monitor-enabled", "checking", providers.StateReady},
		"monitor down":           {"monitor-enabled", "down", providers.StateDown},
		"disabled":               {"user-disabled", "up", providers.StateDrain},
		"disabled monitor down":  {"user-disabled", "down", providers.StateDrain},
		"forced offline":         {"user-disabled", "user-down", providers.StateMaint},
		"forced offline enabled": {"user-enabled", "user-down", providers.StateMaint},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := (poolMember{Session: tt.session, State: tt.state}).memberState(); got != tt.want {
				t.Errorf("memberState() = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestCurConns reads serverside.curConns keyed by member full path, from the entry
// URL or, failing that, from nodeName and port.
func TestCurConns(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	entry := func(stats map[string]statValue) struct {
		NestedStats struct {
			Entries map[string]statValue `json:"entries"`
		} `json:"nestedStats"`
	} {
		var e struct {
			NestedStats struct {
				Entries map[string]statValue `json:"entries"`
			} `json:"nestedStats"`
		}
		e.NestedStats.Entries = stats
		return e
	}
	var s memberStats
	s.Entries = map[string]struct {
		NestedStats struct {
			Entries map[string]statValue `json:"entries"`
		} `json:"nestedStats"`
	}{
		"https://localhost/mgmt/tm/ltm/pool/~Common~web/members/~Common~10.0.0.1:80/stats": entry(map[string]statValue{
			"serverside.curConns": {Value: n(3)}}),
		"https://localhost/mgmt/tm/ltm/pool/~Common~app.app~web/members/~Common~app.app~10.0.0.9%252:80/stats": entry(map[string]statValue{
			"serverside.curConns": {Value: n(9)}}),
		"weird key 1": entry(map[string]statValue{
			"nodeName": {Description: "/Common/10.0.0.2"}, "port": {Value: n(80)}, "serverside.curConns": {Value: n(5)}}),
		"weird key 2": entry(map[string]statValue{
			"nodeName": {Description: "/Common/2001:db8::5"}, "port": {Value: n(443)}, "serverside.curConns": {Value: n(6)}}),
		"no curConns": entry(map[string]statValue{"nodeName": {Description: "/Common/10.0.0.3"}, "port": {Value: n(80)}}),
		"no node":     entry(map[string]statValue{"serverside.curConns": {Value: n(1)}}),
	}
	want := map[string]int{
		"/Common/10.0.0.1:80":           3,
		"/Common/app.app/10.0.0.9%2:80": 9,
		"/Common/10.0.0.2:80":           5,
		"/Common/2001:db8::5.443":       6,
	}
	if d := cmp.Diff(want, s.curConns()); d != "" {
		t.Errorf("curConns (-want +got):\n%s", d)
	}
}

// TestObjectPath escapes each part of a full path for the URL.
func TestObjectPath(t *testing.T) {
	tests := map[string]string{
		"/Common/web":              "~Common~web",
		"/Common/app.app/web":      "~Common~app.app~web",
		"/Common/10.0.0.4%2:8080":  "~Common~10.0.0.4%252:8080",
		"/Common/2001:db8::5.8080": "~Common~2001:db8::5.8080",
		"/Prod/node with space:80": "~Prod~node%20with%20space:80",
	}
	for in, want := range tests {
		if got := objectPath(in); got != want {
			t.Errorf("objectPath(%q) = %q, want %q", in, got, want)
		}
	}
}
