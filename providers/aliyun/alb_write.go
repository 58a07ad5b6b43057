package aliyun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alb"
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
	token := p.clientToken() // the same on every try: ALB applies the change once
	var job albJob
	if err := p.rpc.call(ctx, func() requests.AcsRequest {
		r := alb.CreateUpdateServerGroupServersAttributeRequest()
		r.ServerGroupId = pool
		r.ClientToken = token
		r.Servers = &[]alb.UpdateServerGroupServersAttributeServers{{
			ServerId:   s.ServerID,
			ServerType: s.ServerType,
			ServerIp:   s.ServerIP,
			Port:       strconv.Itoa(int(s.Port)),
			Weight:     strconv.Itoa(weight),
		}}
		return r
	}, &job); err != nil {
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

// randomToken returns a random version-4 UUID, the ClientToken of a weight
// change.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
