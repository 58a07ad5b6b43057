package planner

import (
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// openTestKind is a provider kind registered only in this package's tests.
const openTestKind = "plannertest"

// openedProvider is what the openTestKind factory builds; it remembers its settings
// and whether it was closed.
type openedProvider struct {
	settings providers.Settings
	closeErr error
	mu       sync.Mutex
	closed   int
}

func (p *openedProvider) Kind() string { return openTestKind }
func (p *openedProvider) Name() string { return p.settings.Name }
func (p *openedProvider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed++
	return p.closeErr
}

func init() {
	providers.Register(providers.Factory{Kind: openTestKind, New: func(s providers.Settings) (providers.Provider, error) {
		if v, ok := s.Attrs["refuse"]; ok {
			return nil, errors.New(v.AsString())
		}
		p := &openedProvider{settings: s}
		if v, ok := s.Attrs["close_error"]; ok {
			p.closeErr = errors.New(v.AsString())
		}
		return p, nil
	}})
}

// cmpSortSlices compares slices regardless of order.
func cmpSortSlices[T any](less func(a, b T) bool) cmp.Option { return cmpopts.SortSlices(less) }

func TestOpenProviders(t *testing.T) {
	ref := func(name string) lang.ProviderRef { return lang.ProviderRef{Kind: openTestKind, Name: name} }
	unknown := lang.ProviderRef{Kind: "nosuchkind", Name: "x"}
	cfg := &lang.Config{Dir: "/etc/nonstop", Providers: map[lang.ProviderRef]*lang.Provider{
		ref("good"):    {Ref: ref("good"), Attrs: map[string]cty.Value{"addr": cty.StringVal("127.0.0.1:1")}, DeclRange: testRange(1)},
		ref("refused"): {Ref: ref("refused"), Attrs: map[string]cty.Value{"refuse": cty.StringVal("addresses must not be empty")}, DeclRange: testRange(5)},
		unknown:        {Ref: unknown, DeclRange: testRange(9)},
	}}
	provs, ds := OpenProviders(cfg, hclog.New(&hclog.LoggerOptions{Name: "nonstop", Output: io.Discard}))

	type diagAt struct{ Summary, Detail, At string }
	var got []diagAt
	for _, d := range ds {
		got = append(got, diagAt{d.Summary, d.Detail, d.Subject.String()})
	}
	want := []diagAt{
		{"Unknown provider kind", `This nonstop has no provider kind "nosuchkind"; the kinds it knows are: ` +
			strings.Join(providers.Kinds(), ", ") + ".", testRange(9).String()},
		{"Invalid provider configuration", "Provider plannertest.refused could not be configured: addresses must not be empty.", testRange(5).String()},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("diagnostics (-want +got):\n%s", d)
	}
	if len(provs) != 1 {
		t.Fatalf("opened %d providers, want 1 (good)", len(provs))
	}
	p := provs[ref("good")].(*openedProvider)
	if p.settings.Name != "good" || p.settings.Dir != "/etc/nonstop" || p.settings.Attrs["addr"].AsString() != "127.0.0.1:1" {
		t.Errorf("factory got settings %+v", p.settings)
	}
	if p.settings.Logger == nil || p.settings.Logger.Name() != "nonstop.plannertest.good" {
		t.Errorf("factory logger is not named after the provider")
	}
	if err := provs.Close(); err != nil || p.closed != 1 {
		t.Errorf("Close: err %v, closed %d times, want nil and 1", err, p.closed)
	}
}

func TestProvidersCloseJoinsErrors(t *testing.T) {
	a := &openedProvider{settings: providers.Settings{Name: "a"}, closeErr: errors.New("socket already closed")}
	b := &openedProvider{settings: providers.Settings{Name: "b"}}
	c := &openedProvider{settings: providers.Settings{Name: "c"}, closeErr: errors.New("timeout")}
	provs := Providers{
		{Kind: openTestKind, Name: "c"}: c,
		{Kind: openTestKind, Name: "a"}: a,
		{Kind: openTestKind, Name: "b"}: b,
	}
	err := provs.Close()
	want := "closing plannertest.a: socket already closed\nclosing plannertest.c: timeout"
	if err == nil || err.Error() != want {
		t.Errorf("Close error = %v, want %q", err, want)
	}
	for _, p := range []*openedProvider{a, b, c} {
		if p.closed != 1 {
			t.Errorf("provider %s closed %d times, want 1", p.settings.Name, p.closed)
		}
	}
}
