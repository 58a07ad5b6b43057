package f5

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/providers"
)

// TestPoolHealth reads the monitor's verdict with Pool: pool web mixes healthy,
// disabled but healthy (drain is still monitored), forced offline, marked down, no
// monitor and not yet checked members; pool static has no monitor at all. Both take
// the same two requests as ever (members, members/stats).
func TestPoolHealth(t *testing.T) {
	type health struct {
		Health providers.MemberHealth
		Detail string
	}
	tests := map[string]map[string]health{
		"web": {
			"10.0.0.1:8080":        {providers.HealthUp, "available: Pool member is available"},
			"10.0.0.2:8080":        {providers.HealthUp, "available: Pool member is available, user disabled"},
			"10.0.0.3:8080":        {providers.HealthDown, "offline: Forced down"},
			"10.0.0.4:8080":        {providers.HealthDown, "offline: Pool member has been marked down by a monitor"},
			"[2001:db8::5]:8080":   {providers.HealthUnknown, "unknown: Pool member does not have service checking enabled"},
			"api.example.com:8080": {providers.HealthDown, "member state checking"},
		},
		"static": {
			"10.0.1.1:80": {providers.HealthUnknown, "unknown: Pool member does not have service checking enabled"},
			"10.0.1.2:80": {providers.HealthUnknown, "unknown: Pool member does not have service checking enabled"},
		},
	}
	for pool, want := range tests {
		t.Run(pool, func(t *testing.T) {
			fake := newFakeBigIP(t, false)
			ms, err := newProvider(t, fake, nil).Pool(context.Background(), pool)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]health{}
			for _, m := range ms {
				got[m.Address] = health{m.Health, m.HealthDetail}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("health (-want +got):\n%s", d)
			}
			wantReqs := []request{
				login,
				get("/mgmt/tm/ltm/pool/~Common~"+pool+"/members", "TOKEN1"),
				get("/mgmt/tm/ltm/pool/~Common~"+pool+"/members/stats", "TOKEN1"),
			}
			if d := cmp.Diff(wantReqs, fake.seen()); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
		})
	}
}

// TestMemberHealth maps availability, monitor status and the member's state onto
// nonstop's health.
func TestMemberHealth(t *testing.T) {
	stats := func(avail, monitor, reason string) map[string]statValue {
		return map[string]statValue{
			"status.availabilityState": {Description: avail},
			"monitorStatus":            {Description: monitor},
			"status.statusReason":      {Description: reason},
		}
	}
	tests := map[string]struct {
		stats      map[string]statValue
		state      string
		want       providers.MemberHealth
		wantDetail string
	}{
		"available": {stats: stats("available", "up", "Pool member is available"), state: "up",
			want: providers.HealthUp, wantDetail: "available: Pool member is available"},
		"disabled, still monitored": {stats: stats("available", "up", "Pool member is available, user disabled"), state: "up",
			want: providers.HealthUp, wantDetail: "available: Pool member is available, user disabled"},
		"marked down": {stats: stats("offline", "down", "Pool member has been marked down by a monitor"), state: "down",
			want: providers.HealthDown, wantDetail: "offline: Pool member has been marked down by a monitor"},
		"parent down": {stats: stats("offline", "up", "Parent down"), state: "up",
			want: providers.HealthDown, wantDetail: "offline: Parent down"},
		"connection limit": {stats: stats("unavailable", "up", "Pool member has reached its connection limit"), state: "up",
			want: providers.HealthDown, wantDetail: "unavailable: Pool member has reached its connection limit"},
		"no monitor": {stats: stats("unknown", "unchecked", "Pool member does not have service checking enabled"), state: "unchecked",
			want: providers.HealthUnknown, wantDetail: "unknown: Pool member does not have service checking enabled"},
		"first check pending (stats)": {stats: stats("unknown", "checking", ""), state: "up",
			want: providers.HealthDown, wantDetail: "unknown (monitor checking)"},
		"first check pending (member)": {stats: stats("unknown", "", ""), state: "checking",
			want: providers.HealthDown, wantDetail: "unknown (monitor checking)"},
		"capitalised": {stats: stats("AVAILABLE", "up", ""), state: "up",
			want: providers.HealthUp, wantDetail: "available"},
		"unknown availability word": {stats: stats("degraded", "up", "?"), state: "up",
			want: providers.HealthDown, wantDetail: "degraded: ?"},
		"no stats, state up":        {state: "up", want: providers.HealthUp, wantDetail: "member state up"},
		"no stats, state down":      {state: "down", want: providers.HealthDown, wantDetail: "member state down"},
		"no stats, checking":        {state: "checking", want: providers.HealthDown, wantDetail: "member state checking"},
		"no stats, unchecked":       {state: "unchecked", want: providers.HealthUnknown, wantDetail: "member state unchecked"},
		"no stats, forced offline":  {state: "user-down", want: providers.HealthUnknown, wantDetail: "member state user-down"},
		"no stats, no state either": {want: providers.HealthUnknown, wantDetail: "no availability in the member stats"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, detail := memberHealth(tt.stats, poolMember{State: tt.state})
			if got != tt.want || detail != tt.wantDetail {
				t.Errorf("memberHealth = %q, %q; want %q, %q", got, detail, tt.want, tt.wantDetail)
			}
		})
	}
}
