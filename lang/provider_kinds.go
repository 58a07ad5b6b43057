package lang

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// ProviderSchemas holds the registered provider kinds by name: the language knows
// a kind only once its package registered it (providers.Register calls
// RegisterProviderKind from the package's init). Registration happens during
// initialisation, before any configuration is loaded, so the map is read without
// a lock; tests may add a kind for the length of a test and delete it after.
var ProviderSchemas = map[string]ProviderSchema{}

// RegisterProviderKind makes a provider kind known to the language: provider blocks
// of that kind are validated against s, and references to them fit the slot of
// s.Class. It panics on a duplicate kind or a schema that cannot work (a kind name
// that is not an identifier, no class, an optional attribute without a default, a
// default that does not fit its own attribute), which are programming errors.
func RegisterProviderKind(kind string, s ProviderSchema) {
	if _, dup := ProviderSchemas[kind]; dup {
		panic(fmt.Sprintf("lang: provider kind %q registered twice", kind))
	}
	if err := s.validate(kind); err != nil {
		panic(fmt.Sprintf("lang: provider kind %q: %v", kind, err))
	}
	ProviderSchemas[kind] = s
}

// ProviderKinds lists the registered provider kinds, sorted.
func ProviderKinds() []string {
	return slices.Sorted(maps.Keys(ProviderSchemas))
}

// validate checks a schema at registration.
func (ps ProviderSchema) validate(kind string) error {
	if !hclsyntax.ValidIdentifier(kind) {
		return fmt.Errorf("the kind is not a valid name")
	}
	if ps.Class != ClassRegistry && ps.Class != ClassBalancer {
		return fmt.Errorf("class %q fits no slot; use ClassRegistry or ClassBalancer", ps.Class)
	}
	for _, name := range slices.Sorted(maps.Keys(ps.Attributes)) {
		as := ps.Attributes[name]
		switch {
		case as.Type == cty.NilType:
			return fmt.Errorf("attribute %q has no type", name)
		case as.Required && as.Default != cty.NilVal:
			return fmt.Errorf("attribute %q is required but has a default", name)
		case !as.Required && as.Default == cty.NilVal:
			return fmt.Errorf("attribute %q is optional but has no default", name)
		case !as.Required && !as.Default.Type().Equals(as.Type):
			return fmt.Errorf("the default of attribute %q is a %s, not a %s", name, as.Default.Type().FriendlyName(), as.Type.FriendlyName())
		case (as.Duration || len(as.Enum) > 0) && as.Type != cty.String:
			return fmt.Errorf("attribute %q is a duration or enum but not a string", name)
		}
		if as.Required {
			continue
		}
		def := as.Default.AsString
		if as.Duration {
			d, err := ParseDuration(def())
			if err == nil {
				err = as.bounds().check(d)
			}
			if err != nil {
				return fmt.Errorf("the default of attribute %q: %v", name, err)
			}
		}
		if len(as.Enum) > 0 && !slices.Contains(as.Enum, def()) {
			return fmt.Errorf("the default of attribute %q is not one of its values", name)
		}
	}
	return nil
}

// WithDefaults returns attrs with every optional attribute of the kind that is
// absent or null set to its default. A provider's factory decodes what it returns,
// so that a kind's defaults live in its schema only, whether the attributes come
// from a loaded configuration (which has them filled in already) or from a caller
// that builds them by hand. Attributes outside the schema are kept, for the factory
// to refuse.
func (ps ProviderSchema) WithDefaults(attrs map[string]cty.Value) map[string]cty.Value {
	out := make(map[string]cty.Value, len(attrs)+len(ps.Attributes))
	for name, v := range attrs {
		if v != cty.NilVal && !v.IsNull() {
			out[name] = v
		}
	}
	for name, as := range ps.Attributes {
		if _, set := out[name]; !set && !as.Required {
			out[name] = as.Default
		}
	}
	return out
}

// Default returns the default of attribute name, cty.NilVal for a required or
// unknown attribute.
func (ps ProviderSchema) Default(name string) cty.Value {
	return ps.Attributes[name].Default
}

// RequiredAttr is a required attribute of type ty.
func RequiredAttr(ty cty.Type) AttrSchema { return AttrSchema{Type: ty, Required: true} }

// StringAttr is an optional string attribute.
func StringAttr(def string) AttrSchema {
	return AttrSchema{Type: cty.String, Default: cty.StringVal(def)}
}

// SecretAttr is an optional sensitive string (a password, a key), empty by default.
func SecretAttr() AttrSchema {
	return AttrSchema{Type: cty.String, Sensitive: true, Default: cty.StringVal("")}
}

// BoolAttr is an optional bool attribute.
func BoolAttr(def bool) AttrSchema { return AttrSchema{Type: cty.Bool, Default: cty.BoolVal(def)} }

// DurationAttr is an optional duration attribute ("30s") of at most max.
func DurationAttr(def string, max time.Duration) AttrSchema {
	return AttrSchema{Type: cty.String, Default: cty.StringVal(def), Duration: true, MaxDuration: max}
}

// EnumAttr is an optional string attribute that takes one of values.
func EnumAttr(def string, values ...string) AttrSchema {
	return AttrSchema{Type: cty.String, Default: cty.StringVal(def), Enum: values}
}

// StringListAttr is an optional list of strings.
func StringListAttr(def ...string) AttrSchema {
	if len(def) == 0 {
		return AttrSchema{Type: cty.List(cty.String), Default: cty.ListValEmpty(cty.String)}
	}
	vals := make([]cty.Value, len(def))
	for i, s := range def {
		vals[i] = cty.StringVal(s)
	}
	return AttrSchema{Type: cty.List(cty.String), Default: cty.ListVal(vals)}
}
