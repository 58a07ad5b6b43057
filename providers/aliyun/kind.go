package aliyun

import (
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// The two kinds this package registers: provider "aliyun_slb" "web" (Classic Load
// Balancer) and provider "aliyun_alb" "api" (Application Load Balancer).
const (
	KindSLB = "aliyun_slb"
	KindALB = "aliyun_alb"
)

func init() {
	caps := providers.Capabilities{ConfirmsServing: true}
	providers.Register(providers.Factory{Kind: KindSLB, Schema: schema, New: NewSLB, Caps: caps})
	providers.Register(providers.Factory{Kind: KindALB, Schema: schema, New: NewALB, Caps: caps})
}

// schema is the block of both kinds: a balancer in a region, signed with an
// AccessKey (and an STS security token with it), or, with no AccessKey in the
// block, with the credentials the default credential chain finds when the
// provider is used (credentials.go). An empty endpoint means the kind's public
// one; timeout bounds each try of each API call. decodeSettings reads the
// defaults from here.
var schema = lang.ProviderSchema{
	Class: lang.ClassBalancer,
	Attributes: map[string]lang.AttrSchema{
		"region":            lang.RequiredAttr(cty.String),
		"access_key_id":     lang.SecretAttr(),
		"access_key_secret": lang.SecretAttr(),
		"security_token":    lang.SecretAttr(),
		"endpoint":          lang.StringAttr(""),
		"timeout":           lang.DurationAttr("30s", 24*time.Hour),
	},
	Check: check,
}

// check checks the region is named and the endpoint, when given, is a URL.
func check(b *lang.ProviderBlock) {
	if b.Set("region") && b.String("region") == "" {
		b.Errorf("region", "Empty argument", "The argument \"region\" must be set to a region ID such as \"cn-shanghai\".")
	}
	if b.String("endpoint") != "" {
		b.CheckHTTPURL("endpoint")
	}
}
