package haproxy

import (
	"context"
	"strings"
)

// Long-lived connections (websockets, gRPC streams, SSE) do not leave a drained
// member by themselves: HAProxy stops sending the member new sessions, but an
// upgraded connection stays on it until one side closes it. For a pool marked as
// carrying them, the executor waits for the member's sessions (Member.Sessions,
// `show stat` scur) to reach zero up to drain.timeout, then calls CloseSessions,
// which closes what remains on that member only (`shutdown sessions server`),
// so that the clients reconnect, to a serving member since this one is out of
// traffic. Route backends (POOL__ROUTE) are not touched: their members are placed
// by the route, not drained with the pool.

// CloseSessions closes every session HAProxy holds on the member with this address
// in pool, and returns how many were open just before (scur). The member must be
// out of traffic (drain or maint, or weight 0), or the closed clients could
// reconnect to it: a serving member is refused and nothing is closed.
func (h *HAProxy) CloseSessions(ctx context.Context, pool, address string) (int, error) {
	s, err := h.serverFor(ctx, pool, address)
	if err != nil {
		return 0, err
	}
	if s.admin&(adminMaintMask|adminDrainMask) == 0 && s.uweight > 0 {
		return 0, h.errorf("backend %q member %s is in traffic (ready, weight %d); drain it before closing its sessions", pool, address, s.uweight)
	}
	out, err := h.api.do(ctx, "show stat "+pool+" 4 -1")
	if err != nil {
		return 0, h.errorf("backend %q: %v", pool, err)
	}
	stats, err := parseStat(out)
	if err != nil {
		return 0, h.errorf("backend %q: %v", pool, err)
	}
	open := stats[s.name].scur
	cmd := "shutdown sessions server " + pool + "/" + s.name
	if out, err = h.api.do(ctx, cmd); err != nil {
		return 0, h.errorf("backend %q server %s (%s): %v", pool, s.name, s.addr, err)
	}
	if out = strings.TrimSpace(out); out != "" {
		return 0, h.errorf("backend %q server %s (%s): %s: %s", pool, s.name, s.addr, cmd, firstLine(out))
	}
	return open, nil
}

// CloseSessions is the optional capability providers.SessionCloser (to be declared
// there, next to Balancer, for the executor to assert).
var _ interface {
	CloseSessions(ctx context.Context, pool, address string) (int, error)
} = (*HAProxy)(nil)
