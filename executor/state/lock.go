package state

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"
)

// lockPollInterval is how often a waiting Lock tries again.
const lockPollInterval = 100 * time.Millisecond

// LockInfo describes who holds the state lock, for the person who cannot get it.
type LockInfo struct {
	// ID identifies this lock; Unlock and ForceUnlock take it.
	ID string `json:"id"`
	// Who is user@host of the process that took the lock.
	Who string `json:"who"`
	// Operation is the command that took the lock, "apply".
	Operation string `json:"operation"`
	// Created is when the lock was taken.
	Created time.Time `json:"created"`
	// Version is the nonstop version that took the lock.
	Version string `json:"version"`
	// Info is free text from the holder.
	Info string `json:"info,omitempty"`
	// Path says where the lock is kept: a lock file, or a postgres workspace.
	// The backend fills it in.
	Path string `json:"path,omitempty"`
}

// NewLockInfo returns lock info for operation by this process: a new ID, user@host
// and the current time.
func NewLockInfo(operation, version string) *LockInfo {
	return &LockInfo{
		ID:        newID(),
		Who:       whoAmI(),
		Operation: operation,
		Created:   time.Now().UTC().Truncate(time.Microsecond),
		Version:   version,
	}
}

// whoAmI returns user@host for the current process.
func whoAmI() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return name + "@" + host
}

// LockError is returned by Lock when another holder has the lock. Info is that
// holder's lock info (possibly incomplete, when the holder had not written it yet).
type LockError struct {
	Info *LockInfo
	// Err says why the lock was not taken.
	Err error
}

// Error prints the lock holder the way Terraform's "Error acquiring the state
// lock" block does.
func (e *LockError) Error() string {
	var b strings.Builder
	b.WriteString("Error acquiring the state lock\n\n")
	if e.Err != nil {
		fmt.Fprintf(&b, "Error message: %s\n", e.Err)
	}
	if e.Info != nil {
		b.WriteString("Lock Info:\n")
		fmt.Fprintf(&b, "  ID:        %s\n", e.Info.ID)
		fmt.Fprintf(&b, "  Path:      %s\n", e.Info.Path)
		fmt.Fprintf(&b, "  Operation: %s\n", e.Info.Operation)
		fmt.Fprintf(&b, "  Who:       %s\n", e.Info.Who)
		fmt.Fprintf(&b, "  Version:   %s\n", e.Info.Version)
		fmt.Fprintf(&b, "  Created:   %s\n", e.Info.Created.UTC().Format("2006-01-02 15:04:05.999999999 -0700 MST"))
		b.WriteString(strings.TrimRight("  Info:      "+e.Info.Info, " ") + "\n")
	}
	b.WriteString("\nnonstop acquires a state lock to protect the state from being written\n" +
		"by several applies at the same time. Please resolve the issue above and try\n" +
		"again: wait for the other apply to finish, raise -lock-timeout, or, if the\n" +
		"holder is gone for good, run \"nonstop force-unlock ID\".")
	return b.String()
}

// Unwrap returns the reason the lock was not taken.
func (e *LockError) Unwrap() error { return e.Err }

// ForceUnlockWarning is what the CLI shows before ForceUnlock, as Terraform does:
// breaking a lock that a live apply still holds lets two applies run at once.
const ForceUnlockWarning = `Do you really want to force-unlock?
  nonstop will remove the lock on the state. This will allow nonstop to
  modify the state even though another apply may still be using it.
  Only 'yes' will be accepted to confirm.`

// pollLock calls try until it takes the lock, fails with an error, or ctx ends.
// try reports (true, nil) when it took the lock, (false, holder) when someone
// else holds it. Without a deadline on ctx it tries exactly once, like
// Terraform's -lock-timeout=0s.
func pollLock(ctx context.Context, try func() (bool, *LockInfo, error)) error {
	_, hasDeadline := ctx.Deadline()
	for {
		ok, holder, err := try()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if !hasDeadline {
			return &LockError{Info: holder, Err: fmt.Errorf("the state is locked by another process")}
		}
		t := time.NewTimer(lockPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return &LockError{Info: holder, Err: fmt.Errorf("the state is locked by another process: %w", ctx.Err())}
		case <-t.C:
		}
	}
}

// prepareLockInfo copies info, filling in what the caller left out.
func prepareLockInfo(info *LockInfo, path string) *LockInfo {
	var li LockInfo
	if info != nil {
		li = *info
	}
	if li.ID == "" {
		li.ID = newID()
	}
	if li.Who == "" {
		li.Who = whoAmI()
	}
	if li.Created.IsZero() {
		li.Created = time.Now().UTC().Truncate(time.Microsecond)
	}
	li.Path = path
	return &li
}
