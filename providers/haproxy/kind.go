package haproxy

import (
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// Kind is the kind this package registers: provider "haproxy" "lb".
const Kind = "haproxy"

func init() {
	providers.Register(providers.Factory{Kind: Kind, Schema: schema, New: New,
		Caps: providers.Capabilities{DrainsByState: true, HoldsRoutes: true, ConfirmsServing: true}})
}

// schema is the haproxy provider block: a balancer driven through the runtime
// API, with the map files routes are written to. New reads the defaults from here.
var schema = lang.ProviderSchema{
	Class:          lang.ClassBalancer,
	ClosesSessions: true, // shutdown sessions server (see sessions.go)
	Attributes: map[string]lang.AttrSchema{
		"runtime_api":   lang.RequiredAttr(cty.String),
		"routes_map":    lang.StringAttr(""),
		"routes_ip_map": lang.StringAttr(""),
		// routes_number_map: the map_reg file of numeric routes (numbers.go).
		"routes_number_map": lang.StringAttr(""),
		"timeout":           lang.DurationAttr("5s", 24*time.Hour),
	},
	Check: check,
}

// check checks that runtime_api is a unix socket path or a TCP address.
func check(b *lang.ProviderBlock) {
	if !b.Set("runtime_api") {
		return
	}
	s := b.String("runtime_api")
	if rest, ok := strings.CutPrefix(s, "unix://"); ok && strings.HasPrefix(rest, "/") && len(rest) > 1 {
		return
	}
	if rest, ok := strings.CutPrefix(s, "tcp://"); ok {
		if _, err := lang.ParseAddress(rest); err == nil {
			return
		}
	}
	b.Errorf("runtime_api", "Invalid runtime_api",
		"The HAProxy runtime API must be \"unix:///path/to/socket\" or \"tcp://host:port\", not %q.", s)
}
