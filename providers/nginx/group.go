package nginx

import (
	"context"
	"errors"
)

// Writes that arrive while nginx is being tested and reloaded for an earlier
// write wait and then go in together: one file write, one test and one reload
// for all of them (group commit). A fleet release sends nginx many writes at
// once, each of which would otherwise cost its own test and reload, one after
// the other, while a reload itself is one signal however many members changed.
// A write returns once nginx was reloaded with it, as a write alone does.

// groupWrite is one write waiting for its group's commit.
type groupWrite struct {
	change func(*upstreamsFile) error
	done   chan error
}

// errLead tells a waiting write that it leads the next group.
var errLead = errors.New("lead the next group")

// groupCommit applies change with the writes that arrived while the previous
// group committed. The first write of a group leads it: it commits the group
// and hands the lead to the first write that arrived meanwhile.
func (n *Nginx) groupCommit(ctx context.Context, change func(*upstreamsFile) error) error {
	w := groupWrite{change: change, done: make(chan error, 1)}
	n.groupMu.Lock()
	n.queue = append(n.queue, w)
	if n.leading {
		n.groupMu.Unlock()
		if err := <-w.done; err != errLead {
			return err
		}
	} else {
		n.leading = true
		n.groupMu.Unlock()
	}
	// This write leads: commit everything queued so far, its own included.
	n.groupMu.Lock()
	group := n.queue
	n.queue = nil
	n.groupMu.Unlock()
	n.commitGroup(ctx, group)
	n.groupMu.Lock()
	if len(n.queue) > 0 {
		n.queue[0].done <- errLead
	} else {
		n.leading = false
	}
	n.groupMu.Unlock()
	return <-w.done
}

// commitGroup applies each write of the group to the file in turn and commits
// the result once. A write whose change fails gets its own error and is left
// out; the others get the commit's result. Inside an open Batch the changes
// join the batch, as a single write does.
func (n *Nginx) commitGroup(ctx context.Context, group []groupWrite) {
	n.mu.Lock()
	defer n.mu.Unlock()
	base, old := n.pending, []byte(nil)
	if base == nil {
		var err error
		if base, old, err = n.load(); err != nil {
			for _, w := range group {
				w.done <- err
			}
			return
		}
	}
	next := base
	var applied []groupWrite
	for _, w := range group {
		trial := next.clone()
		if err := w.change(trial); err != nil {
			w.done <- n.errorf("%v", err)
			continue
		}
		if _, err := trial.render(n.String()); err != nil {
			w.done <- n.errorf("%v", err)
			continue
		}
		next = trial
		applied = append(applied, w)
	}
	if len(applied) == 0 {
		return
	}
	var err error
	if n.pending != nil {
		n.pending = next
	} else {
		err = n.commit(ctx, next, old)
	}
	if len(applied) > 1 {
		n.logger.Debug("one reload for several writes", "provider", n.String(), "writes", len(applied))
	}
	for _, w := range applied {
		w.done <- err
	}
}
