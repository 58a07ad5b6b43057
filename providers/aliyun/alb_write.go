package aliyun

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// albJob is the answer of UpdateServerGroupServersAttribute.
type albJob struct {
	RequestID string `json:"RequestId"`
	JobID     string `json:"JobId"`
}

// setWeight sends UpdateServerGroupServersAttribute for one server, keeping its
// type, IP and port, then waits for the change to apply.
func (p *ALB) setWeight(ctx context.Context, pool string, s albServer, weight int) error {
	addr := joinAddress(s.ServerIP, int(s.Port))
	params := url.Values{
		"ServerGroupId":        {pool},
		"ClientToken":          {p.clientToken()},
		"Servers.1.ServerId":   {s.ServerID},
		"Servers.1.ServerType": {s.ServerType},
		"Servers.1.ServerIp":   {s.ServerIP},
		"Servers.1.Port":       {strconv.Itoa(int(s.Port))},
		"Servers.1.Weight":     {strconv.Itoa(weight)},
	}
	var job albJob
	if err := p.rpc.call(ctx, "UpdateServerGroupServersAttribute", params, &job); err != nil {
		return p.errorf("server group %q member %s (%s): set weight %d: %v", pool, addr, s.ServerID, weight, err)
	}
	p.logger.Debug("weight change accepted", "provider", p.String(), "pool", pool, "address", addr, "weight", weight, "job", job.JobID)
	return p.awaitWeight(ctx, pool, addr, s.ServerID, weight, job.JobID)
}

// awaitWeight polls ListServerGroupServers until the server is Available with the
// wanted weight, the context ends or settleTimeout passes.
func (p *ALB) awaitWeight(ctx context.Context, pool, addr, serverID string, weight int, jobID string) error {
	deadline := time.Now().Add(p.settleTimeout)
	for {
		ss, err := p.servers(ctx, pool)
		if err != nil {
			return err
		}
		s, err := p.serverFor(pool, addr, ss)
		if err != nil {
			return p.errorf("server group %q member %s (%s): after setting weight %d (job %s): %v", pool, addr, serverID, weight, jobID, err)
		}
		if s.Status == "Available" && int(s.Weight) == weight {
			return nil
		}
		// Right after the call the job may not have started: an Available server
		// with the old weight is not yet a failure.
		if time.Now().After(deadline) {
			return p.errorf("server group %q member %s (%s): weight %d (job %s) not applied after %s: ALB reports status %s, weight %d", pool, addr, serverID, weight, jobID, p.settleTimeout, s.Status, s.Weight)
		}
		t := time.NewTimer(p.settleInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return p.errorf("server group %q member %s (%s): waiting for weight %d (job %s): %v", pool, addr, serverID, weight, jobID, ctx.Err())
		case <-t.C:
		}
	}
}
