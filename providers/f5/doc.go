// Package f5 is the balancer provider for F5 BIG-IP LTM, driven through the iControl
// REST API with net/http (F5 publishes no Go SDK).
//
//	provider "f5" "dc1" {
//	  url                  = "https://bigip1.example.com"   # management address
//	  username             = "nonstop"
//	  password             = var.f5_password
//	  partition            = "Common"                       # default
//	  insecure_skip_verify = false                          # self-signed management certificates
//	}
//
// A pool is an LTM pool: "web" means /PARTITION/web, and a full path such as
// "/Common/app.app/web" is used as is. Its members are matched by address: the
// member's address field (without a route domain "%N"; the FQDN for FQDN nodes) and
// the port from its name ("10.0.0.1:80", "node1:80", or "2001:db8::1.80" for IPv6),
// whatever the member and its node are named.
//
// Pool makes two calls: GET /mgmt/tm/ltm/pool/~P~POOL/members and
// GET .../members/stats, whose serverside.curConns is Member.Sessions (nil for a
// member the stats do not list). Writes find the member with one list call, then
// PATCH .../members/~P~NAME:
//
//   - weight is the member's ratio, {"ratio": N}, from 1 to 65535. It steers traffic
//     only when the pool's load-balancing mode is a ratio mode (ratio-member,
//     ratio-session, ratio-least-connections-member, ...); in round-robin it is
//     stored and ignored. F5 has no ratio 0, so weight 0 (a blue-green or canary
//     switch taking a group out of traffic) is written as state drain with the
//     ratio kept; the planner drains F5 members by state anyway, like HAProxy's.
//   - ready is {"session": "user-enabled", "state": "user-up"} (Enabled);
//   - drain is {"session": "user-disabled", "state": "user-up"} (Disabled: no new
//     connections, existing ones and persistent sessions continue). "state" is sent
//     too so that drain also brings a forced-offline member back to Disabled;
//   - maint and down are {"session": "user-disabled", "state": "user-down"} (Forced
//     Offline: only active connections continue). BIG-IP cannot mark a member down
//     the way its health monitor does, so down is forced offline and reads back as
//     maint.
//
// Reading maps state user-down to maint, session user-disabled to drain, state down
// (the health monitor's verdict) to down, and anything else (up, unchecked,
// checking) to ready.
//
// Health comes from the same members/stats answer, so it costs no extra call:
// Member.Health is the member's status.availabilityState, the availability BIG-IP
// derives from the member's and its node's monitors, and HealthDetail is that word
// with status.statusReason ("offline: Pool member has been marked down by a
// monitor"). available is up; offline (monitor down, parent node down, forced down)
// and unavailable (a connection limit reached) are down; unknown is HealthUnknown
// when the member has no monitor ("Pool member does not have service checking
// enabled"), but down while a monitor has not answered yet (monitorStatus or member
// state "checking", as right after a member comes back). A member the stats do not
// list falls back on the member list's state (up; down and checking are down;
// unchecked and user-down say nothing). Availability is independent of the
// administrative state: a Disabled member (nonstop's drain) is still monitored and
// reads available or offline. For F5, "serving" therefore means enabled (session
// user-enabled, state user-up) and available: the monitors have passed since the
// member came back. In a pool without a monitor BIG-IP confirms nothing, and an
// enabled member counts as serving at once.
//
// Authentication: the provider logs in with POST /mgmt/shared/authn/login
// ({"username", "password", "loginProviderName": "tmos"}) and sends the token in
// X-F5-Auth-Token. It logs in again a tenth of the token's lifetime (at most a
// minute) before it expires (1,200 s by default) and once more when a request is
// answered 401; Close deletes the token, since a user may hold only 100. Where the
// login endpoint does not exist (404 or 405) it falls back to HTTP basic auth. Errors
// carry iControl REST's own "message" and nothing else of the error body.
//
// # What was verified, and how
//
// No BIG-IP was reachable while this package was written (the tests run offline).
// The tests drive the provider against an httptest server that replays the request
// and answer shapes F5 documents (testdata/README.md cites each source) and check
// every request the provider sends: method, path, query, auth headers and body.
// Not verified against a real device: the exact error messages and codes of a
// given BIG-IP version, how a version reads back a state it was just PATCHed to
// (user-enabled may read back as monitor-enabled; both are ready here), the stats
// key format on versions other than the documented 12.x to 14.x one, the exact
// availability and reason a version gives a Forced Offline member or one whose
// first monitor probe is pending, and the behaviour of remote (LDAP, RADIUS,
// TACACS+) users, whose login provider may need a name other than tmos.
package f5
