package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
	"github.com/nonstop-release/nonstop/providers/gatewayroutes"
)

// gatewayVisibleBound bounds the wait for a published document to read back: a
// configuration center may serve the previous content for a while (Polaris' cache
// about a second).
var gatewayVisibleBound = 15 * time.Second

// publishGateway runs gateway.publish. It reads the document and refuses, writing
// nothing, when its MD5 is not one the step expects (it changed since the plan
// read it); then it writes it — a compare-and-swap where the server makes that
// atomic (Nacos 2.x, and the creation of an absent document anywhere), else a
// plain publish right after the check, which leaves a window of a round trip
// plus the server's read lag (Polaris) in which a concurrent edit is
// overwritten — and reads it back until the new content shows. The undo puts
// back the content read, or removes a document that did not exist, provided the
// document is still one this plan wrote.
func (x *execution) publishGateway(ctx context.Context, st *planner.Step) ([]write, error) {
	g := st.Args.Gateway
	if g == nil || g.DataID == "" {
		return nil, fmt.Errorf("gateway.publish has no document")
	}
	p, err := x.provider(st.Args.Provider)
	if err != nil {
		return nil, err
	}
	store, ok := p.(providers.ConfigStore)
	if !ok {
		return nil, fmt.Errorf("provider %s cannot store configuration documents", st.Args.Provider)
	}
	key := providers.ConfigKey{DataID: g.DataID, Group: g.Group}
	where := fmt.Sprintf("gateway routes %s (group %s) on %s", g.DataID, g.Group, st.Args.Provider)
	prev, _, found, err := store.GetConfig(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", where, err)
	}
	seen := gatewayroutes.MD5(prev, found)
	if !slices.Contains(g.Expect, seen) {
		return nil, fmt.Errorf("%s changed since it was read: it is %s, the plan expected %s; nothing was written, plan again",
			where, md5Text(seen), expectText(g.Expect))
	}
	want := gatewayroutes.MD5(g.Content, g.Content != "")
	if seen == want {
		return nil, nil // already there (an apply resumed after this step)
	}
	if g.Content == "" {
		if err := store.DeleteConfig(ctx, key); err != nil {
			return nil, fmt.Errorf("removing %s: %w", where, err)
		}
	} else {
		cas := ""
		atomic, _ := store.(providers.AtomicConfigWriter)
		switch {
		case !found:
			cas = gatewayroutes.MD5("", true) // create if absent: atomic on Nacos and Polaris
		case atomic != nil && atomic.AtomicConfigUpdates():
			cas = seen
		}
		if err := store.PublishConfig(ctx, key, g.Content, cas); err != nil {
			if errors.Is(err, providers.ErrConflict) {
				return nil, fmt.Errorf("%s changed since it was read (the server refused the compare-and-swap); nothing was written, plan again: %w", where, err)
			}
			return nil, fmt.Errorf("publishing %s: %w", where, err)
		}
	}
	if err := waitGatewayVisible(ctx, store, key, g.Content, where); err != nil {
		return nil, err
	}
	undo := withArgs(st, func(a *planner.StepArgs) {
		u := *g
		u.Content, u.Weights = "", nil
		if found {
			u.Content = prev
			if d, err := gatewayroutes.Parse(prev); err == nil {
				u.Weights = d.Weights
			}
		}
		u.Expect = x.gatewayWrites(st)
		a.Gateway = &u
	})
	return []write{{key: "gateway|" + st.Args.Provider + "|" + g.Group + "|" + g.DataID, did: *st, undo: undo}}, nil
}

// gatewayWrites returns the MD5 of every document the plan writes where st does:
// a rollback puts the document back while it holds one of them.
func (x *execution) gatewayWrites(st *planner.Step) []string {
	var out []string
	for _, s := range x.plan.Steps {
		g := s.Args.Gateway
		if s.Kind == planner.GatewayPublish && g != nil && s.Args.Provider == st.Args.Provider &&
			g.DataID == st.Args.Gateway.DataID && g.Group == st.Args.Gateway.Group {
			out = append(out, gatewayroutes.MD5(g.Content, g.Content != ""))
		}
	}
	if len(out) == 0 { // an undo run outside its plan: what it wrote itself
		out = append(out, gatewayroutes.MD5(st.Args.Gateway.Content, st.Args.Gateway.Content != ""))
	}
	return out
}

// waitGatewayVisible reads the document back until it holds content ("" for
// removed), for at most gatewayVisibleBound.
func waitGatewayVisible(ctx context.Context, store providers.ConfigStore, key providers.ConfigKey, content, where string) error {
	deadline := time.Now().Add(gatewayVisibleBound)
	for {
		got, _, found, err := store.GetConfig(ctx, key)
		if err == nil && found == (content != "") && (!found || got == content) {
			return nil
		}
		if time.Now().After(deadline) {
			state := "an older content"
			switch {
			case err != nil:
				state = "unreadable: " + err.Error()
			case !found:
				state = "absent"
			}
			return fmt.Errorf("%s was written but does not read back within %s (it is %s)", where, gatewayVisibleBound, state)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func md5Text(m string) string {
	if m == "" {
		return "absent"
	}
	return "md5 " + m
}

func expectText(ms []string) string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = md5Text(m)
	}
	return strings.Join(out, " or ")
}
