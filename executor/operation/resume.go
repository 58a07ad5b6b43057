package operation

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/state"
)

// ResumePath returns the file `nonstop resume` appends step ids to and a running
// apply on local state watches: "resume" in the state directory of a local
// backend. For other backends it is .nonstop/resume in the configuration
// directory, which only applies that do not watch their backend (WatchResumes)
// read: a backend that carries resumes (state.Resumer, postgres) takes them
// from any machine instead.
func ResumePath(b state.Backend, dir string) string {
	if l, ok := b.(*state.Local); ok {
		return filepath.Join(l.Dir(), "resume")
	}
	return filepath.Join(dir, ".nonstop", "resume")
}

// ResumeWhere says, for logs and messages, where the resumes of an apply
// running on b are given: the state database, or the resume file.
func ResumeWhere(b state.Backend, dir string) string {
	if _, ok := b.(state.Resumer); ok {
		return fmt.Sprintf("the state backend (%s)", backendWhere(b))
	}
	return ResumePath(b, dir)
}

// backendWhere names b for people: a postgres workspace, a state directory.
func backendWhere(b state.Backend) string {
	switch b := b.(type) {
	case *state.Postgres:
		return fmt.Sprintf("postgres workspace %q", b.Workspace())
	case *state.Local:
		return b.Dir()
	}
	return fmt.Sprintf("%T", b)
}

// WatchResumes returns the ids of the steps resumed for apply applyID, each
// once, as `nonstop resume` gives them, until ctx ends. A backend that carries
// resumes (state.Resumer: postgres) is polled every `every`, so a resume given
// on any machine reaches the apply; a poll that fails is logged and tried
// again. Otherwise the resume file (ResumePath) is watched, cleared first so
// that resumes given to an earlier apply, whose step ids the plan may reuse,
// do not resume this one. log may be nil.
func WatchResumes(ctx context.Context, b state.Backend, dir, applyID string, every time.Duration, log hclog.Logger) <-chan string {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if r, ok := b.(state.Resumer); ok {
		return pollResumes(ctx, r, applyID, every, log)
	}
	path := ResumePath(b, dir)
	if err := clearResumeFile(path); err != nil {
		log.Warn("cannot clear the resume file", "path", path, "error", err)
	}
	return executor.WatchResumeFile(ctx, path, every)
}

// pollResumes sends each step resumed for applyID in r once, polling every
// `every` until ctx ends.
func pollResumes(ctx context.Context, r state.Resumer, applyID string, every time.Duration, log hclog.Logger) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sent, failing := 0, false
		for {
			steps, err := r.Resumes(ctx, applyID)
			switch {
			case err != nil && ctx.Err() == nil && !failing:
				failing = true
				log.Warn("cannot read the resumes given to this apply; trying again", "apply", applyID, "error", err)
			case err == nil && failing:
				failing = false
				log.Info("reading resumes again", "apply", applyID)
			}
			for ; err == nil && sent < len(steps); sent++ {
				select {
				case ch <- steps[sent]:
				case <-ctx.Done():
					return
				}
			}
			if !sleep(ctx, every) {
				return
			}
		}
	}()
	return ch
}

// clearResumeFile removes the resume file, so that resumes given to an earlier
// apply (whose step ids the new plan may reuse) do not resume this one.
func clearResumeFile(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
