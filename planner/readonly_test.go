package planner

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// TestPlannerHoldsReadersOnly parses the planner's non-test code and fails if it
// could write to a live system: if it names a write interface of providers
// (Registry, Balancer, RouteStore, Batcher, ConfigStore), calls a write method (a
// method of those that no reader interface has), declares an interface with one,
// or imports a provider kind's package (whose concrete types write). Holding a
// writer takes one of these, so the planner holds readers only: it decides, the
// executor writes.
func TestPlannerHoldsReadersOnly(t *testing.T) {
	writers := map[string]reflect.Type{
		"Registry":    reflect.TypeFor[providers.Registry](),
		"Balancer":    reflect.TypeFor[providers.Balancer](),
		"RouteStore":  reflect.TypeFor[providers.RouteStore](),
		"Batcher":     reflect.TypeFor[providers.Batcher](),
		"ConfigStore": reflect.TypeFor[providers.ConfigStore](),
	}
	readers := []reflect.Type{
		reflect.TypeFor[providers.RegistryReader](),
		reflect.TypeFor[providers.BalancerReader](),
		reflect.TypeFor[providers.RouteReader](),
		reflect.TypeFor[providers.ConfigReader](),
	}
	reads := map[string]bool{}
	for _, r := range readers {
		for i := range r.NumMethod() {
			reads[r.Method(i).Name] = true
		}
	}
	writes := map[string]bool{}
	for _, w := range writers {
		for i := range w.NumMethod() {
			if m := w.Method(i).Name; !reads[m] {
				writes[m] = true
			}
		}
	}
	if !writes["SetMemberWeight"] || !writes["PutRoute"] || reads["SetInstanceEnabled"] {
		t.Fatalf("write methods %v, read methods %v: the interfaces are not split as this test expects", writes, reads)
	}

	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	const providersPath = "github.com/nonstop-release/nonstop/providers"
	fset := token.NewFileSet()
	checked := 0
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		pkgName := "" // the providers package's name in this file, if imported
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == providersPath:
				pkgName = "providers"
				if imp.Name != nil {
					pkgName = imp.Name.Name
				}
			case p == providersPath+"/gatewayroutes": // a document format, no provider
			case strings.HasPrefix(p, providersPath+"/"):
				t.Errorf("%s: the planner imports %s, a provider kind; it asks kinds through providers.CapabilitiesOf",
					fset.Position(imp.Pos()), p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && pkgName != "" && x.Name == pkgName && writers[n.Sel.Name] != nil {
					t.Errorf("%s: the planner names providers.%s, a write interface; only the executor holds writers",
						fset.Position(n.Pos()), n.Sel.Name)
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && writes[sel.Sel.Name] {
					t.Errorf("%s: the planner calls %s, a provider write method; only the executor writes",
						fset.Position(n.Pos()), sel.Sel.Name)
				}
			case *ast.InterfaceType:
				for _, m := range n.Methods.List {
					for _, name := range m.Names {
						if writes[name.Name] {
							t.Errorf("%s: the planner declares an interface with %s, a provider write method",
								fset.Position(name.Pos()), name.Name)
						}
					}
				}
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("checked %d files; is the test running in the planner's directory?", checked)
	}
}

// testLBKind is a balancer kind that exists only in this test binary. Everything
// nonstop knows about it is the one providers.Register call below: the block's
// schema (slot, attributes, defaults, check), the factory and the capabilities.
// It is what a new kind's kind.go looks like, and its provider implements only
// providers.BalancerReader: the planner needs no more.
const testLBKind = "testlb"

func init() {
	providers.Register(providers.Factory{
		Kind: testLBKind,
		Schema: lang.ProviderSchema{
			Class: lang.ClassBalancer,
			Attributes: map[string]lang.AttrSchema{
				"members": lang.RequiredAttr(cty.List(cty.String)),
				"state":   lang.EnumAttr("ready", "ready", "drain"),
			},
			Check: func(b *lang.ProviderBlock) {
				if ms, ok := b.StringList("members"); ok && b.Set("members") && len(ms) == 0 {
					b.Errorf("members", "Empty argument", "A testlb pool needs members.")
				}
			},
		},
		New:  newTestLB,
		Caps: providers.Capabilities{DrainsByState: true, ConfirmsServing: true},
	})
}

// testLB reports one pool of the members its block lists, at weight 1, in the
// block's state, up by its own checks, each with one session in flight.
type testLB struct {
	name    string
	members []string
	state   providers.MemberState
}

func newTestLB(s providers.Settings) (providers.Provider, error) {
	attrs := lang.ProviderSchemas[testLBKind].WithDefaults(s.Attrs)
	lb := &testLB{name: s.Name, state: providers.MemberState(attrs["state"].AsString())}
	for it := attrs["members"].ElementIterator(); it.Next(); {
		_, v := it.Element()
		lb.members = append(lb.members, v.AsString())
	}
	return lb, nil
}

func (b *testLB) Kind() string { return testLBKind }
func (b *testLB) Name() string { return b.name }

func (b *testLB) Pool(_ context.Context, pool string) ([]providers.Member, error) {
	var out []providers.Member
	for _, addr := range b.members {
		one := 1
		out = append(out, providers.Member{Pool: pool, Address: addr, Weight: 1, State: b.state,
			Sessions: &one, Health: providers.HealthUp})
	}
	return out, nil
}

var _ providers.BalancerReader = (*testLB)(nil)

// TestNewKindIsOneRegistration loads a configuration that uses testlb, opens and
// refreshes it through the registered factory, and plans: the language validated
// the block against the kind's schema and check, and the plan takes members out of
// traffic by state with a wait.drain (DrainsByState) and waits for the balancer's
// own checks before counting a restored member (ConfirmsServing).
func TestNewKindIsOneRegistration(t *testing.T) {
	src := `
provider "testlb" "edge" {
  members = ["127.0.0.1:1001", "127.0.0.1:1002"]
}
service "svc" {
  version = "2.0.0"
  group "a" { instances = ["127.0.0.1:1001"] }
  group "b" { instances = ["127.0.0.1:1002"] }
  balancer "web" {
    provider = testlb.edge
    pool     = "web"
  }
  strategy "rolling" { batch = "group" }
  deploy { command = ["true"] }
}
`
	cfg, ds := lang.LoadFiles(t.TempDir(), map[string][]byte{"main.ns.hcl": []byte(src)}, lang.LoadOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if got := cfg.Providers[lang.ProviderRef{Kind: testLBKind, Name: "edge"}].Attrs["state"]; !got.RawEquals(cty.StringVal("ready")) {
		t.Errorf("state = %#v, want the schema's default", got)
	}
	provs, ds := OpenProviders(cfg, nil)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if _, writes := provs[lang.ProviderRef{Kind: testLBKind, Name: "edge"}].(providers.Balancer); writes {
		t.Fatal("the test kind's provider can write; it must only read")
	}
	live, ds := Refresh(context.Background(), cfg, provs, RefreshOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if n := len(live.Services["svc"].Balancers["web"]); n != 2 {
		t.Fatalf("refresh read %d members, want 2", n)
	}
	p, ds := MakePlan(cfg, live, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	var kinds []StepKind
	for _, s := range p.Steps {
		kinds = append(kinds, s.Kind)
	}
	for _, want := range []StepKind{BalancerSetState, WaitDrain, WaitServing} {
		if !slices.Contains(kinds, want) {
			t.Errorf("the plan has no %s step; its steps: %v", want, kinds)
		}
	}
	if slices.Contains(kinds, BalancerSetWeight) {
		t.Errorf("the plan drains by weight, not by state: %v", kinds)
	}

	bad := strings.Replace(src, `["127.0.0.1:1001", "127.0.0.1:1002"]`, `[]`, 1)
	_, ds = lang.LoadFiles(t.TempDir(), map[string][]byte{"main.ns.hcl": []byte(bad)}, lang.LoadOptions{})
	if errs := ds.Errs(); len(errs) == 0 || errs[0].Summary != "Empty argument" {
		t.Errorf("an empty members list gave %v, want the kind's check to report it", ds)
	}
}
