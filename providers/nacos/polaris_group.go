package nacos

import (
	"context"
	"errors"
	"net/http"
)

// Instance writes on Polaris go in groups: a write that arrives while another
// group is being sent waits, and the next group carries every write that
// arrived meanwhile in one PUT /naming/v1/instances (the native API takes a
// list and answers per instance). A fleet release sends hundreds of isolate
// writes at once; Polaris then gets one request at a time per provider
// instead of one per instance. Each write still gets its own answer: a per
// instance code from the batch, or, when the batch as a whole is refused (an
// unknown instance fails every instance of it), its own request.

// maxPolarisBatch bounds the instances of one request.
const maxPolarisBatch = 100

// polarisWrite is one instance write waiting for its group.
type polarisWrite struct {
	body map[string]any
	done chan error
}

// errLeadGroup tells a waiting write that it sends the next group.
var errLeadGroup = errors.New("lead the next group")

// groupPolarisWrite sends body in the next group of instance writes. The first
// write of a group sends it and hands the next to the first write that arrived
// meanwhile.
func (n *Nacos) groupPolarisWrite(ctx context.Context, body map[string]any) error {
	w := polarisWrite{body: body, done: make(chan error, 1)}
	n.groupMu.Lock()
	n.queue = append(n.queue, w)
	if n.leading {
		n.groupMu.Unlock()
		if err := <-w.done; err != errLeadGroup {
			return err
		}
	} else {
		n.leading = true
		n.groupMu.Unlock()
	}
	n.groupMu.Lock()
	group := n.queue[:min(len(n.queue), maxPolarisBatch)]
	n.queue = n.queue[len(group):]
	n.groupMu.Unlock()
	n.sendPolarisGroup(ctx, group)
	n.groupMu.Lock()
	if len(n.queue) > 0 {
		n.queue[0].done <- errLeadGroup
	} else {
		n.leading = false
	}
	n.groupMu.Unlock()
	return <-w.done
}

// polarisBatchAnswer is the native API's answer to a list of instances.
type polarisBatchAnswer struct {
	Responses []struct {
		Code int    `json:"code"`
		Info string `json:"info"`
	} `json:"responses"`
}

// sendPolarisGroup sends the group's writes in one request and answers each
// write. A refused batch, or one whose answer does not match it instance by
// instance, is sent again one instance per request.
func (n *Nacos) sendPolarisGroup(ctx context.Context, group []polarisWrite) {
	if len(group) == 1 {
		group[0].done <- n.polarisCall(ctx, http.MethodPut, "/naming/v1/instances", nil, []any{group[0].body}, nil)
		return
	}
	bodies := make([]any, len(group))
	for i, w := range group {
		bodies[i] = w.body
	}
	var answer polarisBatchAnswer
	err := n.polarisCall(ctx, http.MethodPut, "/naming/v1/instances", nil, bodies, &answer)
	if err == nil && len(answer.Responses) == len(group) {
		n.logger.Debug("one request for several instance writes", "provider", "nacos."+n.name, "writes", len(group))
		for i, w := range group {
			switch r := answer.Responses[i]; r.Code {
			case polarisOK, polarisNoChange:
				w.done <- nil
			default:
				w.done <- &polarisError{Code: r.Code, Info: r.Info}
			}
		}
		return
	}
	if ctx.Err() != nil {
		for _, w := range group {
			w.done <- err
		}
		return
	}
	for _, w := range group {
		w.done <- n.polarisCall(ctx, http.MethodPut, "/naming/v1/instances", nil, []any{w.body}, nil)
	}
}
