package f5

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// Kind is the kind this package registers: provider "f5" "dc1".
const Kind = "f5"

func init() {
	providers.Register(providers.Factory{Kind: Kind, Schema: schema, New: New,
		Caps: providers.Capabilities{DrainsByState: true, ConfirmsServing: true}})
}

// schema is the f5 provider block: a BIG-IP LTM balancer reached over iControl
// REST. New reads the defaults from here.
var schema = lang.ProviderSchema{
	Class: lang.ClassBalancer,
	Attributes: map[string]lang.AttrSchema{
		"url":                  lang.RequiredAttr(cty.String),
		"username":             lang.StringAttr(""),
		"password":             lang.SecretAttr(),
		"partition":            lang.StringAttr("Common"),
		"insecure_skip_verify": lang.BoolAttr(false),
	},
	Check: func(b *lang.ProviderBlock) { b.CheckHTTPURL("url") },
}
