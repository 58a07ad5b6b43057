package haproxy

import (
	"testing"

	"github.com/nonstop-release/nonstop/providers"
)

// A `show servers state` answer of HAProxy 2.6 (s1, s2 and s4 captured): s1
// checked and its last check failed (L4CON), s2 without checks, s3 checked and
// assumed up before its first check (INI: HAProxy just started), s4 checked and
// passing (L7OK), s5 passing with a check in progress (CHK_ST_INPROGRESS: HAProxy
// has reset its result to unknown, its status still says L7OK).
const serversStateCaptured = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
2 web 1 s1 127.0.0.1 2 0 1 1 0 8 2 2 6 0 0 0 - 19998 - 0 0 - - 0
2 web 2 s2 127.0.0.1 2 0 1 1 0 1 0 2 0 0 0 0 - 19997 - 0 0 - - 0
2 web 3 s3 127.0.0.1 2 0 1 1 0 1 0 2 6 0 0 0 - 19995 - 0 0 - - 0
2 web 4 s4 127.0.0.1 2 0 1 1 2 15 3 3 6 0 0 0 - 19998 - 0 0 - - 0
2 web 5 s5 127.0.0.1 2 0 1 1 2 15 0 3 7 0 0 0 - 19994 - 0 0 - - 0
`

func TestMemberHealthNeedsAPassedCheck(t *testing.T) {
	srvs, err := parseServersState(serversStateCaptured)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]providers.MemberHealth{
		"s1": providers.HealthDown, // UP 1/2: its last check failed, it is going down
		"s2": providers.HealthUp,   // no checks: running is all HAProxy knows
		"s3": providers.HealthDown, // assumed up, never checked
		"s4": providers.HealthUp,
		"s5": providers.HealthUp, // a check in flight does not hide the last verdict
	}
	if len(srvs) != len(want) {
		t.Fatalf("parsed %d servers, want %d", len(srvs), len(want))
	}
	for _, s := range srvs {
		if got := memberHealth(s); got != want[s.name] {
			t.Errorf("%s (op %d, checked %t, status %d): health %s, want %s", s.name, s.opState, s.checked, s.checkStatus, got, want[s.name])
		}
	}
	stopped := server{opState: opStopped, checked: true, checkStatus: statusL7OK}
	if memberHealth(stopped) != providers.HealthDown {
		t.Error("a stopped server with a passed check is up")
	}
}
