package command

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// The fast apply tests use two provider kinds registered here, as a provider
// package registers itself: "fake_registry" and "fake_lb", both keeping their live
// state in one JSON file (attribute file) that the test writes and reads. A write
// sleeps for the attribute delay first, which keeps an apply busy. The language
// learns the kinds only while a test uses them (useFakeKinds), so that no other
// test's output lists them.
func init() {
	providers.Register(providers.Factory{Kind: "fake_registry", New: newFakeProvider("fake_registry")})
	providers.Register(providers.Factory{Kind: "fake_lb", New: newFakeProvider("fake_lb")})
}

// useFakeKinds adds the fake kinds' schemas to the language until t ends. The
// package's tests do not run in parallel, so nothing reads the map meanwhile.
func useFakeKinds(t *testing.T) {
	attrs := map[string]lang.AttrSchema{
		"file":  {Type: cty.String, Required: true},
		"delay": {Type: cty.String, Default: cty.StringVal("0s")},
	}
	lang.ProviderSchemas["fake_registry"] = lang.ProviderSchema{Class: lang.ClassRegistry, Attributes: attrs}
	lang.ProviderSchemas["fake_lb"] = lang.ProviderSchema{Class: lang.ClassBalancer, Attributes: attrs}
	t.Cleanup(func() {
		delete(lang.ProviderSchemas, "fake_registry")
		delete(lang.ProviderSchemas, "fake_lb")
	})
}

// fakeLive is the content of a fake provider's file.
type fakeLive struct {
	Instances map[string][]providers.Instance `json:"instances"` // by service
	Pools     map[string][]providers.Member   `json:"pools"`
}

// fakeFiles serialises the read-modify-write cycles on each file in this process.
var fakeFiles sync.Map // path -> *sync.Mutex

type fakeProvider struct {
	kind, name, file string
	delay            time.Duration
}

func newFakeProvider(kind string) func(providers.Settings) (providers.Provider, error) {
	return func(s providers.Settings) (providers.Provider, error) {
		p := &fakeProvider{kind: kind, name: s.Name, file: s.Attrs["file"].AsString()}
		if !filepath.IsAbs(p.file) {
			p.file = filepath.Join(s.Dir, p.file)
		}
		if v, ok := s.Attrs["delay"]; ok && !v.IsNull() {
			d, err := time.ParseDuration(v.AsString())
			if err != nil {
				return nil, fmt.Errorf("delay: %w", err)
			}
			p.delay = d
		}
		return p, nil
	}
}

func (p *fakeProvider) Kind() string { return p.kind }
func (p *fakeProvider) Name() string { return p.name }

func (p *fakeProvider) lock() func() {
	mu, _ := fakeFiles.LoadOrStore(p.file, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

func readFakeLive(path string) (*fakeLive, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var l fakeLive
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &l, nil
}

func writeFakeLive(path string, l *fakeLive) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// update applies fn to the file's content after the write delay.
func (p *fakeProvider) update(ctx context.Context, fn func(l *fakeLive) error) error {
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	defer p.lock()()
	l, err := readFakeLive(p.file)
	if err != nil {
		return err
	}
	if err := fn(l); err != nil {
		return err
	}
	return writeFakeLive(p.file, l)
}

func (p *fakeProvider) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	defer p.lock()()
	l, err := readFakeLive(p.file)
	if err != nil {
		return nil, err
	}
	return l.Instances[svc.Service], nil
}

func (p *fakeProvider) instance(l *fakeLive, inst providers.InstanceKey) (*providers.Instance, error) {
	for i := range l.Instances[inst.Service] {
		if in := &l.Instances[inst.Service][i]; in.Address == inst.Address {
			return in, nil
		}
	}
	return nil, fmt.Errorf("no instance %s of %s", inst.Address, inst.Service)
}

func (p *fakeProvider) SetInstanceEnabled(ctx context.Context, inst providers.InstanceKey, enabled bool) error {
	return p.update(ctx, func(l *fakeLive) error {
		in, err := p.instance(l, inst)
		if err == nil {
			in.Enabled = enabled
		}
		return err
	})
}

func (p *fakeProvider) SetInstanceWeight(ctx context.Context, inst providers.InstanceKey, weight float64) error {
	return p.update(ctx, func(l *fakeLive) error {
		in, err := p.instance(l, inst)
		if err == nil {
			in.Weight = weight
		}
		return err
	})
}

func (p *fakeProvider) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	defer p.lock()()
	l, err := readFakeLive(p.file)
	if err != nil {
		return nil, err
	}
	return l.Pools[pool], nil
}

func (p *fakeProvider) member(l *fakeLive, pool, address string) (*providers.Member, error) {
	for i := range l.Pools[pool] {
		if m := &l.Pools[pool][i]; m.Address == address {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no member %s in pool %s", address, pool)
}

func (p *fakeProvider) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	return p.update(ctx, func(l *fakeLive) error {
		m, err := p.member(l, pool, address)
		if err == nil {
			m.Weight = weight
		}
		return err
	})
}

func (p *fakeProvider) SetMemberState(ctx context.Context, pool, address string, state providers.MemberState) error {
	return p.update(ctx, func(l *fakeLive) error {
		m, err := p.member(l, pool, address)
		if err == nil {
			m.State = state
		}
		return err
	})
}

var (
	_ providers.Registry = (*fakeProvider)(nil)
	_ providers.Balancer = (*fakeProvider)(nil)
)
