package nginx

import (
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// Kind is the kind this package registers: provider "nginx" "edge".
const Kind = "nginx"

func init() {
	providers.Register(providers.Factory{Kind: Kind, Schema: schema, New: New,
		Caps: providers.Capabilities{HoldsRoutes: true, DrainSettle: time.Second, GroupsWrites: true}})
}

// schema is the nginx provider block: a balancer whose upstreams live in one file
// nonstop owns, with the commands that test and reload the configuration. New
// reads the defaults from here.
var schema = lang.ProviderSchema{
	Class: lang.ClassBalancer,
	Attributes: map[string]lang.AttrSchema{
		"upstreams_file": lang.RequiredAttr(cty.String),
		"test":           lang.StringListAttr("nginx", "-t"),
		"reload":         lang.StringListAttr("nginx", "-s", "reload"),
	},
	Check: check,
}

// check checks that the file is named and the commands name a program.
func check(b *lang.ProviderBlock) {
	if b.Set("upstreams_file") && b.String("upstreams_file") == "" {
		b.Errorf("upstreams_file", "Empty argument", "The argument \"upstreams_file\" must be set to a non-empty string.")
	}
	for _, name := range []string{"test", "reload"} {
		if !b.Set(name) {
			continue
		}
		if v := b.Attrs[name]; v.IsKnown() && !v.IsNull() && v.LengthInt() == 0 {
			b.Errorf(name, "Empty argument", "The argument %q must be a command with at least a program name.", name)
		}
	}
}
