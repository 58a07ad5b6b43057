package planner

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/providers"
)

// Providers holds the opened providers of a configuration, keyed by reference. The
// planner reads them through providers.RegistryReader, BalancerReader and
// RouteReader only; the executor, which alone writes, asserts the write interfaces.
type Providers map[lang.ProviderRef]providers.Provider

// OpenProviders configures every provider block declared in cfg through the factory
// its kind registered with providers.Register. An unknown kind, or a factory that
// refuses its settings, is an error diagnostic at the provider block. The providers
// that did open are returned even when others failed, so the caller can close them.
func OpenProviders(cfg *lang.Config, logger hclog.Logger) (Providers, diags.Diagnostics) {
	var ds diags.Diagnostics
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	provs := Providers{}
	for _, ref := range sortedProviderRefs(cfg) {
		block := cfg.Providers[ref]
		factory, ok := providers.Lookup(ref.Kind)
		if !ok {
			ds = ds.Append(diags.Errorf(&block.DeclRange, "Unknown provider kind",
				"This nonstop has no provider kind %q; the kinds it knows are: %s.",
				ref.Kind, knownKinds()))
			continue
		}
		p, err := factory.New(providers.Settings{
			Name:   ref.Name,
			Attrs:  block.Attrs,
			Dir:    cfg.Dir,
			Logger: logger.Named(ref.String()),
		})
		if err != nil {
			ds = ds.Append(diags.Errorf(&block.DeclRange, "Invalid provider configuration",
				"Provider %s could not be configured: %s.", ref, strings.TrimSuffix(err.Error(), ".")))
			continue
		}
		if p == nil {
			ds = ds.Append(diags.Errorf(&block.DeclRange, "Invalid provider configuration",
				"The %s provider kind returned no provider for %s.", ref.Kind, ref))
			continue
		}
		provs[ref] = p
	}
	return provs, ds
}

// Close closes every provider that holds connections, in reference order, and
// returns their errors joined.
func (p Providers) Close() error {
	refs := make([]lang.ProviderRef, 0, len(p))
	for ref := range p {
		refs = append(refs, ref)
	}
	sortRefs(refs)
	var errs []error
	for _, ref := range refs {
		c, ok := p[ref].(providers.Closer)
		if !ok {
			continue
		}
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing %s: %w", ref, err))
		}
	}
	return errors.Join(errs...)
}

// sortedProviderRefs returns the configuration's provider references sorted by kind,
// then name, so providers open and report in a stable order.
func sortedProviderRefs(cfg *lang.Config) []lang.ProviderRef {
	refs := make([]lang.ProviderRef, 0, len(cfg.Providers))
	for ref := range cfg.Providers {
		refs = append(refs, ref)
	}
	sortRefs(refs)
	return refs
}

func sortRefs(refs []lang.ProviderRef) {
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].Kind != refs[j].Kind {
			return refs[i].Kind < refs[j].Kind
		}
		return refs[i].Name < refs[j].Name
	})
}

// knownKinds lists the registered provider kinds for a diagnostic.
func knownKinds() string {
	kinds := providers.Kinds()
	if len(kinds) == 0 {
		return "(none registered)"
	}
	return strings.Join(kinds, ", ")
}
