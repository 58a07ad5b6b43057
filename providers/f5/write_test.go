package f5

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/providers"
)

// TestSetMemberStateRequests checks the PATCH each state sends, to which member
// (found by address whatever its name), and that Pool reads the state back.
func TestSetMemberStateRequests(t *testing.T) {
	tests := map[string]struct {
		address   string
		state     providers.MemberState
		wantPath  string
		wantBody  string
		readsBack providers.MemberState
	}{
		"ready": {address: "10.0.0.2:8080", state: providers.StateReady,
			wantPath: "/mgmt/tm/ltm/pool/~Common~web/members/~Common~10.0.0.2:8080",
			wantBody: `{"session":"user-enabled","state":"user-up"}`, readsBack: providers.StateReady},
		"drain": {address: "10.0.0.1:8080", state: providers.StateDrain,
			wantPath: "/mgmt/tm/ltm/pool/~Common~web/members/~Common~10.0.0.1:8080",
			wantBody: `{"session":"user-disabled","state":"user-up"}`, readsBack: providers.StateDrain},
		"drain from forced offline, named node": {address: "10.0.0.3:8080", state: providers.StateDrain,
			wantPath: "/mgmt/tm/ltm/pool/~Common~web/members/~Common~web3:8080",
			wantBody: `{"session":"user-disabled","state":"user-up"}`, readsBack: providers.StateDrain},
		"maint": {address: "10.0.0.1:8080", state: providers.StateMaint,
			wantPath: "/mgmt/tm/ltm/pool/~Common~web/members/~Common~10.0.0.1:8080",
			wantBody: `{"session":"user-disabled","state":"user-down"}`, readsBack: providers.StateMaint},
		"down is forced offline": {address: "10.0.0.1:8080", state: providers.StateDown,
			wantPath: "/mgmt/tm/ltm/pool/~Common~web/members/~Common~10.0.0.1:8080",
			wantBody: `{"session":"user-disabled","state":"user-down"}`, readsBack: providers.StateMaint},
		"route domain": {address: "10.0.0.4:8080", state: providers.StateMaint,
			wantPath: "/mgmt/tm/ltm/pool/~Common~web/members/~Common~10.0.0.4%252:8080",
			wantBody: `{"session":"user-disabled","state":"user-down"}`, readsBack: providers.StateMaint},
		"ipv6": {address: "[2001:DB8:0::5]:8080", state: providers.StateDrain,
			wantPath: "/mgmt/tm/ltm/pool/~Common~web/members/~Common~2001:db8::5.8080",
			wantBody: `{"session":"user-disabled","state":"user-up"}`, readsBack: providers.StateDrain},
		"fqdn node": {address: "api.example.com:8080", state: providers.StateReady,
			wantPath: "/mgmt/tm/ltm/pool/~Common~web/members/~Common~api-backend:8080",
			wantBody: `{"session":"user-enabled","state":"user-up"}`, readsBack: providers.StateReady},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fake := newFakeBigIP(t, false)
			p := newProvider(t, fake, nil)
			ctx := context.Background()
			if err := p.SetMemberState(ctx, "web", tt.address, tt.state); err != nil {
				t.Fatal(err)
			}
			want := []request{
				login,
				get("/mgmt/tm/ltm/pool/~Common~web/members", "TOKEN1"),
				{Method: "PATCH", Path: tt.wantPath, Token: "TOKEN1", ContentType: "application/json", Body: tt.wantBody},
			}
			if d := cmp.Diff(want, fake.seen()); d != "" {
				t.Errorf("requests (-want +got):\n%s", d)
			}
			assertMember(t, p, tt.address, func(m providers.Member) any { return m.State }, tt.readsBack)
		})
	}
}

// assertMember reads pool web and checks one field of the member with address.
func assertMember(t *testing.T, p *F5, address string, field func(providers.Member) any, want any) {
	t.Helper()
	norm, err := normalAddress(address)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := p.Pool(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Address == norm {
			if got := field(m); got != want {
				t.Errorf("member %s reads back %v, want %v", address, got, want)
			}
			return
		}
	}
	t.Errorf("pool web has no member %s: %+v", norm, ms)
}

// TestSetMemberWeight PATCHes the ratio, and refuses weights F5 cannot express
// before sending anything.
func TestSetMemberWeight(t *testing.T) {
	tests := map[string]struct {
		weight  int
		wantErr string
	}{
		"ratio 7":   {weight: 7},
		"max":       {weight: 65535},
		"negative":  {weight: -1, wantErr: `f5.lb: pool "web" member 10.0.0.1:8080: weight -1 cannot be expressed: F5 pool member ratios go from 1 to 65535`},
		"too large": {weight: 65536, wantErr: `weight 65536 cannot be expressed`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fake := newFakeBigIP(t, false)
			p := newProvider(t, fake, nil)
			err := p.SetMemberWeight(context.Background(), "web", "10.0.0.1:8080", tt.weight)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				if r := fake.seen(); len(r) != 0 {
					t.Errorf("requests sent for a refused weight: %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := fake.seen()
			want := request{Method: "PATCH", Path: "/mgmt/tm/ltm/pool/~Common~web/members/~Common~10.0.0.1:8080",
				Token: "TOKEN1", ContentType: "application/json", Body: `{"ratio":` + strconv.Itoa(tt.weight) + `}`}
			if d := cmp.Diff(want, got[len(got)-1]); d != "" {
				t.Errorf("PATCH (-want +got):\n%s", d)
			}
			assertMember(t, p, "10.0.0.1:8080", func(m providers.Member) any { return m.Weight }, tt.weight)
		})
	}
}

// TestSetMemberWeightZeroDrains expresses weight 0 as the drain state (F5 has no
// ratio 0): one PATCH disabling the session, the ratio kept, read back as drain.
func TestSetMemberWeightZeroDrains(t *testing.T) {
	fake := newFakeBigIP(t, false)
	p := newProvider(t, fake, nil)
	if err := p.SetMemberWeight(context.Background(), "web", "10.0.0.1:8080", 0); err != nil {
		t.Fatal(err)
	}
	got := fake.seen()
	want := request{Method: "PATCH", Path: "/mgmt/tm/ltm/pool/~Common~web/members/~Common~10.0.0.1:8080",
		Token: "TOKEN1", ContentType: "application/json", Body: `{"session":"user-disabled","state":"user-up"}`}
	if d := cmp.Diff(want, got[len(got)-1]); d != "" {
		t.Errorf("PATCH (-want +got):\n%s", d)
	}
	assertMember(t, p, "10.0.0.1:8080", func(m providers.Member) any { return m.State }, providers.StateDrain)
}

// TestWriteErrors names provider, pool and member, and carries the device's message.
func TestWriteErrors(t *testing.T) {
	tests := map[string]struct {
		setup   func(*fakeBigIP)
		pool    string
		address string
		state   providers.MemberState
		want    string
	}{
		"no such address": {pool: "web", address: "10.0.0.9:8080", state: providers.StateDrain,
			want: `f5.lb: pool "web" has no member with address 10.0.0.9:8080`},
		"port differs": {pool: "web", address: "10.0.0.1:80", state: providers.StateDrain,
			want: `f5.lb: pool "web" has no member with address 10.0.0.1:80`},
		"not host:port": {pool: "web", address: "10.0.0.1", state: providers.StateDrain,
			want: `f5.lb: pool "web" member 10.0.0.1: "10.0.0.1" is not host:port`},
		"unknown state": {pool: "web", address: "10.0.0.1:8080", state: "paused",
			want: `f5.lb: pool "web" member 10.0.0.1:8080: unknown state "paused"`},
		"unknown pool": {pool: "nope", address: "10.0.0.1:8080", state: providers.StateDrain,
			want: `f5.lb: pool "nope": list members: HTTP 404 Not Found: 01020036:3: The requested Pool (/Common/nope) was not found.`},
		"patch refused": {pool: "web", address: "10.0.0.1:8080", state: providers.StateReady,
			setup: func(f *fakeBigIP) { f.patchStatus = http.StatusBadRequest },
			want:  `f5.lb: pool "web" member 10.0.0.1:8080 (10.0.0.1:8080): set state ready: HTTP 400 Bad Request: invalid property value "state":"up"`},
		"duplicate address": {pool: "web", address: "10.0.0.1:8080", state: providers.StateDrain,
			setup: func(f *fakeBigIP) {
				dup := map[string]any{}
				for k, v := range f.pools["~Common~web"][0] {
					dup[k] = v
				}
				dup["name"], dup["fullPath"] = "node1:8080", "/Common/node1:8080"
				f.pools["~Common~web"] = append(f.pools["~Common~web"], dup)
			},
			want: `f5.lb: pool "web" has 2 members with address 10.0.0.1:8080; nonstop matches members by address`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fake := newFakeBigIP(t, false)
			if tt.setup != nil {
				tt.setup(fake)
			}
			err := newProvider(t, fake, nil).SetMemberState(context.Background(), tt.pool, tt.address, tt.state)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant      %s", err, tt.want)
			}
		})
	}
}
