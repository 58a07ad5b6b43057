package nginx

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers"
)

// Nginx is an nginx whose upstreams nonstop owns through one file.
type Nginx struct {
	name   string
	file   string
	test   []string
	reload []string
	logger hclog.Logger

	// mu serialises every read-modify-write of the file and guards pending.
	mu sync.Mutex
	// batchMu is held for the whole of a Batch.
	batchMu sync.Mutex
	// pending collects the writes of an open Batch; nil outside one.
	pending *upstreamsFile
	// batchOpen is set while pending is (read without mu).
	batchOpen atomic.Bool

	// groupMu guards the writes waiting for the next group commit (queue) and
	// whether a write leads one (see groupCommit).
	groupMu sync.Mutex
	queue   []groupWrite
	leading bool
}

// New configures an nginx provider from its block's attributes: upstreams_file
// (required; relative to the configuration directory), test and reload (commands;
// defaults in the schema: ["nginx", "-t"] and ["nginx", "-s", "reload"]).
func New(s providers.Settings) (providers.Provider, error) {
	n := &Nginx{name: s.Name, logger: s.Logger}
	if n.logger == nil {
		n.logger = hclog.NewNullLogger()
	}
	for k, v := range schema.WithDefaults(s.Attrs) {
		var err error
		switch k {
		case "upstreams_file":
			n.file, err = stringAttr(v)
		case "test":
			n.test, err = commandAttr(v)
		case "reload":
			n.reload, err = commandAttr(v)
		default:
			err = fmt.Errorf("unknown attribute")
		}
		if err != nil {
			return nil, fmt.Errorf("nginx.%s: %s: %v", s.Name, k, err)
		}
	}
	if n.file == "" {
		return nil, fmt.Errorf("nginx.%s: upstreams_file is required", s.Name)
	}
	if !filepath.IsAbs(n.file) {
		n.file = filepath.Join(s.Dir, n.file)
	}
	return n, nil
}

// Kind returns "nginx".
func (n *Nginx) Kind() string { return Kind }

// Name returns the provider's name.
func (n *Nginx) Name() string { return n.name }

// UpstreamsFile returns the absolute path of the file the provider owns.
func (n *Nginx) UpstreamsFile() string { return n.file }

func (n *Nginx) errorf(format string, args ...any) error {
	return fmt.Errorf("nginx.%s: "+format, append([]any{n.name}, args...)...)
}

// readPool reads the upstreams file (what the running nginx serves, see
// loadServed) and returns one pool.
func (n *Nginx) readPool(name string) (*pool, error) {
	f, err := n.loadServed()
	if err != nil {
		return nil, err
	}
	p := f.findPool(name)
	if p == nil {
		return nil, n.errorf("pool %q is not an upstream in %s", name, n.file)
	}
	return p, nil
}

// Pool reads the upstreams file and returns a pool's members as written there.
// Open-source nginx reports no per-member sessions, so Sessions is nil.
func (n *Nginx) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	p, err := n.readPool(pool)
	if err != nil {
		return nil, err
	}
	return p.live(), nil
}

// SetMemberWeight sets a member's weight (0 takes it out of traffic: nginx has no
// zero weight, so it is written `down` with the weight kept in a comment). A member
// or pool not yet in the file is added: that is how a pool is seeded.
func (n *Nginx) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	if weight < 0 {
		return n.errorf("pool %q member %s: weight %d is negative", pool, address, weight)
	}
	return n.modify(ctx, func(f *upstreamsFile) error {
		m, err := memberFor(f, pool, address)
		if err != nil {
			return err
		}
		m.weight = weight
		return nil
	})
}

// SetMemberState sets a member's state; every state but ready is written `down`.
// A member or pool not yet in the file is added.
func (n *Nginx) SetMemberState(ctx context.Context, pool, address string, state providers.MemberState) error {
	switch state {
	case providers.StateReady, providers.StateDrain, providers.StateMaint, providers.StateDown:
	default:
		return n.errorf("pool %q member %s: unknown state %q", pool, address, state)
	}
	return n.modify(ctx, func(f *upstreamsFile) error {
		m, err := memberFor(f, pool, address)
		if err != nil {
			return err
		}
		m.state = state
		return nil
	})
}

// EnsurePool makes sure a pool holds the given members: a missing pool is
// created, missing members are added with their weight and state, and members
// already in the file are left exactly as they are.
func (n *Nginx) EnsurePool(ctx context.Context, pool string, members []providers.Member) error {
	if len(members) == 0 {
		return n.errorf("pool %q: a pool needs at least one member", pool)
	}
	return n.modify(ctx, func(f *upstreamsFile) error {
		for _, want := range members {
			if want.Weight < 0 {
				return fmt.Errorf("pool %q member %s: weight %d is negative", pool, want.Address, want.Weight)
			}
			if p := f.findPool(pool); p != nil && p.findMember(want.Address) != nil {
				continue
			}
			m, err := memberFor(f, pool, want.Address)
			if err != nil {
				return err
			}
			m.weight, m.state = want.Weight, want.State
			if m.state == "" {
				m.state = providers.StateReady
			}
		}
		return nil
	})
}

// memberFor returns a member of f, adding the pool and member (ready, weight 1)
// when they are missing.
func memberFor(f *upstreamsFile, pool, address string) (*member, error) {
	p := f.findPool(pool)
	if p == nil {
		if err := validateName("pool", pool); err != nil {
			return nil, err
		}
		p = f.addPool(pool)
	}
	if m := p.findMember(address); m != nil {
		return m, nil
	}
	if err := validAddress(address); err != nil {
		return nil, fmt.Errorf("pool %q: %v", pool, err)
	}
	m := &member{addr: address, weight: 1, state: providers.StateReady}
	p.members = append(p.members, m)
	return m, nil
}

// stringAttr decodes a string attribute.
func stringAttr(v cty.Value) (string, error) {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return "", fmt.Errorf("must be a string")
	}
	return v.AsString(), nil
}

// commandAttr decodes a non-empty list (or tuple) of strings.
func commandAttr(v cty.Value) ([]string, error) {
	if v.IsNull() || !v.IsKnown() || !(v.Type().IsListType() || v.Type().IsTupleType()) {
		return nil, fmt.Errorf("must be a list of strings")
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		s, err := stringAttr(e)
		if err != nil {
			return nil, fmt.Errorf("must be a list of strings")
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("must not be empty")
	}
	return out, nil
}

var (
	_ providers.Balancer   = (*Nginx)(nil)
	_ providers.RouteStore = (*Nginx)(nil)
	_ providers.Batcher    = (*Nginx)(nil)
)
