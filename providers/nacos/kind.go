package nacos

import (
	"fmt"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// Kind is the kind this package registers: provider "nacos" "prod".
const Kind = "nacos"

func init() {
	providers.Register(providers.Factory{Kind: Kind, Schema: schema, New: New})
}

// schema is the nacos provider block: a registry, with every attribute's default.
// decodeConfig reads the defaults from here.
var schema = lang.ProviderSchema{
	Class: lang.ClassRegistry,
	Attributes: map[string]lang.AttrSchema{
		"addresses":       lang.RequiredAttr(cty.List(cty.String)),
		"namespace":       lang.StringAttr(DefaultNamespace),
		"username":        lang.StringAttr(""),
		"password":        lang.SecretAttr(),
		"propagation":     lang.DurationAttr("30s", time.Hour),
		"flavor":          lang.EnumAttr(FlavorNacos, FlavorNacos, FlavorPolaris),
		"polaris_address": lang.StringAttr(""),
		"timeout":         lang.DurationAttr("5s", 24*time.Hour),
	},
	Check: check,
	// The Nacos configuration center holds gateway_routes documents.
	StoresConfig: true,
}

// check checks the server addresses: at least one, each host:port.
func check(b *lang.ProviderBlock) {
	if b.Set("addresses") {
		addrs, ok := b.StringList("addresses")
		if ok && len(addrs) == 0 {
			b.Errorf("addresses", "Empty argument", "The argument \"addresses\" must list at least one Nacos server address.")
		}
		for _, a := range addrs {
			if _, err := lang.ParseAddress(a.Value); err != nil {
				b.ErrorAt(a.Range, "Invalid address", "A Nacos server address must be host:port: %s.", err)
			}
		}
	}
	if s := b.String("polaris_address"); b.Set("polaris_address") && s != "" {
		if _, err := lang.ParseAddress(s); err != nil {
			b.Errorf("polaris_address", "Invalid address", "The Polaris address must be host:port: %s.", err)
		}
	}
}

// defaultDuration returns the schema's default of a duration attribute.
func defaultDuration(name string) time.Duration {
	d, err := durationValue(name, schema.Default(name))
	if err != nil {
		panic(fmt.Sprintf("nacos: the default of %s: %v", name, err))
	}
	return d
}
