package f5

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/nonstop-release/nonstop/providers"
)

// memberList is the body of GET /mgmt/tm/ltm/pool/~P~POOL/members
// (kind tm:ltm:pool:members:memberscollectionstate).
type memberList struct {
	Kind  string       `json:"kind"`
	Items []poolMember `json:"items"`
}

// poolMember is one item of a member list (kind tm:ltm:pool:members:membersstate).
type poolMember struct {
	Name      string `json:"name"`     // "10.0.0.1:8080", "web1:8080", "2001:db8::1.8080"
	FullPath  string `json:"fullPath"` // "/Common/10.0.0.1:8080"
	Partition string `json:"partition"`
	Address   string `json:"address"` // "10.0.0.1", "10.0.0.1%2" (route domain 2), "any6" (FQDN node)
	Ratio     int    `json:"ratio"`
	Session   string `json:"session"` // monitor-enabled, user-enabled, user-disabled
	State     string `json:"state"`   // up, down, unchecked, checking, user-down
	FQDN      struct {
		TmName string `json:"tmName"`
	} `json:"fqdn"`
}

// memberPatch is the body of PATCH .../members/~P~NAME; zero fields are left out.
type memberPatch struct {
	Ratio   int    `json:"ratio,omitempty"`
	Session string `json:"session,omitempty"`
	State   string `json:"state,omitempty"`
}

// port returns the service port from the member's name: after the last ":" for
// IPv4 addresses and node names, after the last "." for IPv6 addresses (which F5
// writes "2001:db8::1.80"); "" when the name holds none.
func (m poolMember) port() string {
	n := m.Name
	if i := strings.LastIndexByte(n, ':'); i > 0 && isPort(n[i+1:]) {
		return n[i+1:]
	}
	if i := strings.LastIndexByte(n, '.'); i > 0 && isPort(n[i+1:]) && strings.Contains(n[:i], ":") {
		return n[i+1:]
	}
	return ""
}

// host returns the member's address without its route domain ("%2"), or the FQDN
// of an FQDN node, whose address is a placeholder.
func (m poolMember) host() string {
	h, _, _ := strings.Cut(m.Address, "%")
	if (h == "" || h == "any6" || h == "any" || h == "::" || h == "0.0.0.0") && m.FQDN.TmName != "" {
		return strings.ToLower(m.FQDN.TmName)
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.String()
	}
	return h
}

// hostPort returns the member's address as nonstop names it: host:port, with IPv6
// hosts in brackets.
func (m poolMember) hostPort() string { return net.JoinHostPort(m.host(), m.port()) }

// matches reports whether the member has this normalised address.
func (m poolMember) matches(address string) bool { return m.hostPort() == address }

// memberState maps a member's session and state onto nonstop's: forced offline
// (state user-down) is maint, disabled (session user-disabled) is drain, marked down
// by its health monitor (state down) is down; anything else is ready.
func (m poolMember) memberState() providers.MemberState {
	switch {
	case m.State == "user-down":
		return providers.StateMaint
	case m.Session == "user-disabled":
		return providers.StateDrain
	case m.State == "down":
		return providers.StateDown
	}
	return providers.StateReady
}

// normalAddress returns host:port with an IP host in canonical form and a name in
// lower case, so that "[2001:DB8::1]:80" matches the member 2001:db8::1.80.
func normalAddress(address string) (string, error) {
	h, p, err := net.SplitHostPort(address)
	if err != nil || h == "" || !isPort(p) {
		return "", fmt.Errorf("%q is not host:port", address)
	}
	if a, err := netip.ParseAddr(h); err == nil {
		h = a.String()
	}
	return net.JoinHostPort(strings.ToLower(h), p), nil
}

// memberStats is the body of GET .../members/stats (kind
// tm:ltm:pool:members:memberscollectionstats): one entry per member, keyed by the
// member's stats URL, holding nestedStats.entries.
type memberStats struct {
	Entries map[string]struct {
		NestedStats struct {
			Entries map[string]statValue `json:"entries"`
		} `json:"nestedStats"`
	} `json:"entries"`
}

// statValue is one statistic: a number (value) or a text (description).
type statValue struct {
	Value       *int64 `json:"value"`
	Description string `json:"description"`
}

// byMember returns each entry's statistics keyed by the member's full path
// ("/Common/10.0.0.1:80"). The full path comes from the entry's URL
// (".../members/~Common~10.0.0.1:80/stats"), or else from nodeName and port; an
// entry with neither is left out.
func (s memberStats) byMember() map[string]map[string]statValue {
	out := make(map[string]map[string]statValue, len(s.Entries))
	for key, e := range s.Entries {
		st := e.NestedStats.Entries
		full := memberPathFromStatsURL(key)
		if full == "" {
			node, port := st["nodeName"].Description, st["port"].Value
			if node == "" || port == nil {
				continue
			}
			sep := ":"
			if strings.Contains(node[strings.LastIndexByte(node, '/')+1:], ":") {
				sep = "." // IPv6 node names
			}
			full = fmt.Sprintf("%s%s%d", node, sep, *port)
		}
		out[full] = st
	}
	return out
}

// curConns returns serverside.curConns by member full path (see byMember).
func (s memberStats) curConns() map[string]int {
	out := make(map[string]int, len(s.Entries))
	for full, st := range s.byMember() {
		if cur, ok := st["serverside.curConns"]; ok && cur.Value != nil {
			out[full] = int(*cur.Value)
		}
	}
	return out
}

// memberHealth is the monitor's verdict on a member, from its statistics (nil when
// the stats do not list it) and, where they say nothing, from the member list's
// state.
//
// The source is status.availabilityState, the availability BIG-IP itself derives
// from the member's and its node's monitors ("available", "offline", "unknown",
// "unavailable"), with status.statusReason in its own words. It is independent of
// the administrative state (status.enabledState): a Disabled member (session
// user-disabled, nonstop's drain) is still monitored and reads "available" or
// "offline". The member list's state is not used first because it folds the
// administrative Forced Offline ("user-down") into the same field and hides the
// monitor there.
//
//   - available: up.
//   - offline (marked down by a monitor, parent node down, forced down) and
//     unavailable (a connection or rate limit reached): down, BIG-IP sends the
//     member no new connections.
//   - unknown: no monitor ("Pool member does not have service checking enabled",
//     monitorStatus unchecked): HealthUnknown, BIG-IP routes to the member
//     unchecked. But unknown while the monitor has not yet answered (monitorStatus or
//     member state "checking", as right after a member comes back) is down: the
//     member is monitored and has not passed yet.
func memberHealth(st map[string]statValue, m poolMember) (providers.MemberHealth, string) {
	avail := strings.ToLower(st["status.availabilityState"].Description)
	reason := st["status.statusReason"].Description
	detail := avail
	if reason != "" {
		detail += ": " + reason
	}
	checking := strings.EqualFold(st["monitorStatus"].Description, "checking") || m.State == "checking"
	switch avail {
	case "available":
		return providers.HealthUp, detail
	case "offline", "unavailable":
		return providers.HealthDown, detail
	case "unknown":
		if checking {
			return providers.HealthDown, detail + " (monitor checking)"
		}
		return providers.HealthUnknown, detail
	case "":
		// Not in the stats (or no availability there): the member list's state.
		switch m.State {
		case "up":
			return providers.HealthUp, "member state up"
		case "down", "checking":
			return providers.HealthDown, "member state " + m.State
		}
		if m.State == "" {
			return providers.HealthUnknown, "no availability in the member stats"
		}
		return providers.HealthUnknown, "member state " + m.State
	}
	// An availability this code does not know: not confirmed.
	return providers.HealthDown, detail
}

// memberPathFromStatsURL turns ".../members/~Common~10.0.0.1:80/stats" into
// "/Common/10.0.0.1:80"; "" when the URL is not shaped so.
func memberPathFromStatsURL(key string) string {
	u, err := url.Parse(key)
	if err != nil {
		return ""
	}
	p := strings.TrimSuffix(u.EscapedPath(), "/stats")
	i := strings.LastIndex(p, "/members/")
	if i < 0 {
		return ""
	}
	seg, err := url.PathUnescape(p[i+len("/members/"):])
	if err != nil || !strings.HasPrefix(seg, "~") || strings.Contains(seg, "/") {
		return ""
	}
	return strings.ReplaceAll(seg, "~", "/")
}

// objectPath turns a full path "/Common/app.app/web" into the URL form
// "~Common~app.app~web", each part escaped ("%" of a route domain becomes "%25").
func objectPath(full string) string {
	parts := strings.Split(strings.TrimPrefix(full, "/"), "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "~" + strings.Join(parts, "~")
}

// validName reports whether s can be one part of an F5 object path as nonstop
// sends it: letters, digits and . _ - : only.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '.', r == '_', r == '-', r == ':':
		default:
			return false
		}
	}
	return true
}

// isPort reports whether s is a decimal port number.
func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
