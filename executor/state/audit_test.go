package state

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestAudit runs the audit log suite against every backend kind: entries are
// appended without the lock, also while another process holds it, come back
// oldest first (the newest MaxAudit), and are never written with the state.
func TestAudit(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			open := openerFor(t, kind)
			a, b := open(), open()
			s := lockAndLoad(t, a) // an apply holds the lock
			s.Journal = &Journal{ApplyID: "A1", Started: at(0)}
			if err := a.Save(ctx, s); err != nil {
				t.Fatal(err)
			}
			holder, err := ReadLockInfo(ctx, b)
			if err != nil || holder == nil || holder.Operation != "apply" {
				t.Fatalf("ReadLockInfo = %+v, %v; want the apply's lock", holder, err)
			}
			want := []AuditEntry{
				{At: at(1), Action: AuditResume, Who: "alice", RunURL: "https://ci/1", ApplyID: "A1", Step: "shop.3"},
				{At: at(2), Action: AuditForceUnlock, Who: "bob@laptop", ApplyID: "A1", LockID: holder.ID, Holder: holder},
			}
			for _, e := range want {
				if err := AppendAudit(ctx, b, e); err != nil {
					t.Fatalf("append without the lock: %v", err)
				}
			}
			if diff := cmp.Diff(want, mustLoad(t, a).Audit); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
			// The holder saves: the audit log stays as it is, and is not written
			// twice.
			s = mustLoad(t, a)
			s.Commit = "c1"
			if err := a.Save(ctx, s); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, mustLoad(t, b).Audit); diff != "" {
				t.Errorf("audit after a save (-want +got):\n%s", diff)
			}

			// Many writers at once, then more than MaxAudit entries: the newest come back.
			const writers = 5
			var wg sync.WaitGroup
			for w := range writers {
				c := open()
				wg.Go(func() {
					for i := w; i < MaxAudit-1; i += writers { // 101 entries in all
						if err := AppendAudit(ctx, c, AuditEntry{At: at(10 + i), Action: AuditResume, Who: "w", Step: fmt.Sprintf("s.%d", i)}); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			got := mustLoad(t, b).Audit
			if len(got) != MaxAudit {
				t.Fatalf("loaded %d entries, want %d", len(got), MaxAudit)
			}
			if got[0].Action != AuditForceUnlock {
				t.Errorf("oldest entry kept = %+v, want the force-unlock (the first resume dropped)", got[0])
			}
		})
	}
}

// TestAuditText: the one-line descriptions history prints.
func TestAuditText(t *testing.T) {
	for _, tc := range []struct {
		e    AuditEntry
		want string
	}{
		{AuditEntry{Action: AuditResume, Step: "shop.3", ApplyID: "A1"}, "resume of step shop.3 of apply A1"},
		{AuditEntry{Action: AuditForceUnlock, LockID: "L1", ApplyID: "A1",
			Holder: &LockInfo{Who: "bob@ci", Operation: "apply", Created: at(0)}},
			"force-unlock of lock L1 (held by bob@ci for apply since 2025-03-01 10:00:00 UTC), journal of apply A1"},
		{AuditEntry{Action: AuditForceUnlock, LockID: "L2"}, "force-unlock of lock L2"},
	} {
		if got := tc.e.Text(); got != tc.want {
			t.Errorf("Text() = %q, want %q", got, tc.want)
		}
	}
}

// TestActorAndRunURL: the CI's user and run, else user@host.
func TestActorAndRunURL(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	if got := Actor(env("GITHUB_ACTOR", "octo", "NONSTOP_ACTOR", "release-bot")); got != "release-bot" {
		t.Errorf("Actor = %q, want NONSTOP_ACTOR first", got)
	}
	if got := Actor(env("GITLAB_USER_LOGIN", "gl")); got != "gl" {
		t.Errorf("Actor = %q, want gl", got)
	}
	if got := Actor(env()); !strings.Contains(got, "@") {
		t.Errorf("Actor outside CI = %q, want user@host", got)
	}
	for _, tc := range []struct {
		env  func(string) (string, bool)
		want string
	}{
		{env("GITHUB_SERVER_URL", "https://github.example/", "GITHUB_REPOSITORY", "o/r", "GITHUB_RUN_ID", "42"), "https://github.example/o/r/actions/runs/42"},
		{env("GITHUB_REPOSITORY", "o/r", "GITHUB_RUN_ID", "42"), "https://github.com/o/r/actions/runs/42"},
		{env("CI_JOB_URL", "https://gitlab.example/o/r/-/jobs/7"), "https://gitlab.example/o/r/-/jobs/7"},
		{env("GITHUB_REPOSITORY", "o/r"), ""},
		{env(), ""},
	} {
		if got := RunURL(tc.env); got != tc.want {
			t.Errorf("RunURL = %q, want %q", got, tc.want)
		}
	}
}

// TestPostgresResumes: a resume given on any connection reaches the apply that
// holds the lock on another; it is refused for an apply that is not the one in
// progress, and none outlives its apply.
func TestPostgresResumes(t *testing.T) {
	open := openerFor(t, backendKinds[1])
	apply, elsewhere := open().(*Postgres), open().(*Postgres)
	if err := elsewhere.AddResume(ctx, "A1", "shop.3"); err == nil {
		t.Error("a resume with no apply in progress was recorded")
	}
	s := lockAndLoad(t, apply)
	s.Journal = &Journal{ApplyID: "A1", Started: at(0)}
	if err := apply.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"shop.3", "shop.7"} {
		if err := elsewhere.AddResume(ctx, "A1", step); err != nil {
			t.Fatalf("resume %s: %v", step, err)
		}
	}
	if err := elsewhere.AddResume(ctx, "A0", "shop.3"); err == nil || !strings.Contains(err.Error(), "no longer the apply in progress") {
		t.Errorf("resume of another apply: %v, want a refusal", err)
	}
	got, err := apply.Resumes(ctx, "A1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"shop.3", "shop.7"}, got); diff != "" {
		t.Errorf("resumes (-want +got):\n%s", diff)
	}
	// The same apply saving again keeps them; the next apply starts with none.
	if err := apply.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got, _ := apply.Resumes(ctx, "A1"); len(got) != 2 {
		t.Errorf("resumes after a save of the same apply = %v", got)
	}
	s.Journal = &Journal{ApplyID: "A2", Started: at(5)}
	if err := apply.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, id := range []string{"A1", "A2"} {
		if got, err := apply.Resumes(cctx, id); err != nil || len(got) != 0 {
			t.Errorf("resumes of %s after apply A2 started = %v, %v; want none", id, got, err)
		}
	}
}
