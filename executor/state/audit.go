package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"
)

// Audit actions: what AuditEntry.Action records.
const (
	// AuditForceUnlock: the state lock was broken with nonstop force-unlock.
	AuditForceUnlock = "force-unlock"
	// AuditResume: a running apply was let past a pause with nonstop resume.
	AuditResume = "resume"
)

// MaxAudit is how many of the newest audit entries Load returns.
const MaxAudit = 100

// AuditEntry records one action taken on the state outside an apply.
type AuditEntry struct {
	At time.Time `json:"at"`
	// Action is AuditForceUnlock or AuditResume.
	Action string `json:"action"`
	// Who took it (Actor) and RunURL the CI run it was taken in (RunURL).
	Who    string `json:"who"`
	RunURL string `json:"run_url,omitempty"`
	// ApplyID is the apply the action concerns: the one resumed, or the one
	// whose journal the state held when its lock was broken.
	ApplyID string `json:"apply_id,omitempty"`
	// Step is the step resumed.
	Step string `json:"step,omitempty"`
	// LockID is the lock broken; Holder who held it, as far as it was known.
	LockID string    `json:"lock_id,omitempty"`
	Holder *LockInfo `json:"holder,omitempty"`
}

// Text describes the entry for people, in one line without its time and who:
// "force-unlock of lock 1f2e… (held by bob@ci-3 for apply since …)",
// "resume of step shop.3 of apply 20250301T100000Z-1a2b3c4d".
func (e AuditEntry) Text() string {
	switch e.Action {
	case AuditResume:
		s := "resume of step " + e.Step
		if e.ApplyID != "" {
			s += " of apply " + e.ApplyID
		}
		return s
	case AuditForceUnlock:
		s := "force-unlock of lock " + e.LockID
		var held []string
		if h := e.Holder; h != nil {
			if h.Who != "" {
				held = append(held, "by "+h.Who)
			}
			if h.Operation != "" {
				held = append(held, "for "+h.Operation)
			}
			if !h.Created.IsZero() {
				held = append(held, "since "+h.Created.UTC().Format("2006-01-02 15:04:05 UTC"))
			}
		}
		if len(held) > 0 {
			s += " (held " + strings.Join(held, " ") + ")"
		}
		if e.ApplyID != "" {
			s += ", journal of apply " + e.ApplyID
		}
		return s
	}
	return e.Action
}

// Auditor is a Backend that keeps an audit log: entries appended without the
// state lock (a resume is given while an apply holds it; a force-unlock is
// given because someone else holds it), which Load returns in State.Audit.
// Both backend kinds are Auditors.
type Auditor interface {
	// AppendAudit adds e to the audit log, durably, before it returns. It needs
	// no lock. A zero e.At is set to now.
	AppendAudit(ctx context.Context, e AuditEntry) error
}

// Resumer is a Backend that carries the resumes given with nonstop resume to
// the running apply, wherever either runs. The postgres backend is one; the
// local backend is not (an apply on local state watches the resume file in
// the state directory, on its own machine).
type Resumer interface {
	// AddResume records that step of apply applyID may go past its pause. It
	// needs no lock, and fails when applyID is not the apply whose journal the
	// state holds (it ended, or another started).
	AddResume(ctx context.Context, applyID, step string) error
	// Resumes returns the steps resumed for applyID, in the order given.
	Resumes(ctx context.Context, applyID string) ([]string, error)
}

// AppendAudit appends e to b's audit log, setting e.At and e.Who when unset;
// an error when b keeps none.
func AppendAudit(ctx context.Context, b Backend, e AuditEntry) error {
	a, ok := b.(Auditor)
	if !ok {
		return fmt.Errorf("the %T state backend keeps no audit log", b)
	}
	if e.Action == "" {
		return errors.New("audit entry has no action")
	}
	if e.At.IsZero() {
		e.At = time.Now().UTC().Truncate(time.Millisecond)
	}
	if e.Who == "" {
		e.Who = Actor(nil)
	}
	return a.AppendAudit(ctx, e)
}

// ReadLockInfo returns the info of the lock on b's state as recorded by its
// holder, nil when none is recorded. It takes no lock.
func ReadLockInfo(ctx context.Context, b Backend) (*LockInfo, error) {
	switch b := b.(type) {
	case *Local:
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, err := os.Stat(b.path(localLockInfo)); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return b.readLockInfo(), nil
	case *Postgres:
		return b.readLockInfo(ctx)
	}
	return nil, fmt.Errorf("the %T state backend cannot show its lock info", b)
}

// Actor names who runs nonstop, for the history and the audit log: the
// NONSTOP_ACTOR variable, else the CI's user (GITHUB_ACTOR, GITLAB_USER_LOGIN,
// BUILDKITE_BUILD_CREATOR, BUILD_USER_ID), else user@host. getenv looks the
// variables up; nil reads the process environment.
func Actor(getenv func(string) (string, bool)) string {
	get := envLookup(getenv)
	for _, k := range []string{"NONSTOP_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILDKITE_BUILD_CREATOR", "BUILD_USER_ID"} {
		if v := get(k); v != "" {
			return v
		}
	}
	name := get("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		if name == "" {
			return host
		}
		return name + "@" + host
	}
	return name
}

// RunURL returns the web address of the CI run nonstop runs in, "" outside a
// CI that says: GitHub Actions' GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/
// runs/GITHUB_RUN_ID, GitLab's CI_JOB_URL, Buildkite's BUILDKITE_BUILD_URL,
// Jenkins' BUILD_URL. getenv as for Actor.
func RunURL(getenv func(string) (string, bool)) string {
	get := envLookup(getenv)
	if repo, run := get("GITHUB_REPOSITORY"), get("GITHUB_RUN_ID"); repo != "" && run != "" {
		server := strings.TrimRight(get("GITHUB_SERVER_URL"), "/")
		if server == "" {
			server = "https://github.com"
		}
		return server + "/" + repo + "/actions/runs/" + run
	}
	for _, k := range []string{"CI_JOB_URL", "BUILDKITE_BUILD_URL", "BUILD_URL"} {
		if v := get(k); v != "" {
			return v
		}
	}
	return ""
}

// envLookup returns getenv as a plain lookup, the process environment for nil.
func envLookup(getenv func(string) (string, bool)) func(string) string {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	return func(k string) string {
		v, _ := getenv(k)
		return strings.TrimSpace(v)
	}
}
