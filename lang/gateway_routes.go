package lang

import (
	"regexp"

	"github.com/hashicorp/hcl/v2"
)

// A gateway_routes block publishes the service's routes, and the share of other
// traffic each version gets, as one JSON document in a configuration center, for
// gateways that read their routing rules from there (Spring Cloud Gateway, a
// Nepxion-style gray filter):
//
//	gateway_routes "spring" {
//	  provider = nacos.prod                  # a registry provider whose kind stores config
//	  data_id  = "order-service.routes.json"
//	  group    = "GATEWAY"                   # default "DEFAULT_GROUP"
//	}
//
// The document's format is docs/gateway-routes.md's; providers/gatewayroutes
// writes and reads it.

// GatewayRoutes is one gateway_routes block of a service.
type GatewayRoutes struct {
	Name     string
	Provider ProviderRef
	// DataID and Group identify the document in the provider's namespace.
	DataID    string
	Group     string
	DeclRange hcl.Range
}

// DefaultConfigGroup is the configuration group of a gateway_routes block that
// names none, Nacos' own default.
const DefaultConfigGroup = "DEFAULT_GROUP"

var gatewayRoutesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "provider", Required: true}, {Name: "data_id", Required: true}, {Name: "group"},
	},
}

// configNamePattern is what Nacos accepts in a data id or group name.
var configNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// Longest data id and group Nacos stores (its config_info columns).
const (
	maxDataIDLen      = 255
	maxConfigGroupLen = 127
)

// decodeGatewayRoutes decodes a service's gateway_routes blocks. Each names a
// registry provider whose kind stores configuration, and a document no other
// block of any service publishes to.
func (l *loader) decodeGatewayRoutes(s *Service, blocks []*hcl.Block) {
	seen := map[string]hcl.Range{}
	for _, b := range blocks {
		if l.nameTaken(seen, b, "gateway_routes block") {
			continue
		}
		content, d := b.Body.Content(gatewayRoutesSchema)
		l.diags = l.diags.Append(d)
		g := &GatewayRoutes{Name: b.Labels[0], Group: DefaultConfigGroup, DeclRange: b.DefRange}
		providerOK := false
		if a := content.Attributes["provider"]; a != nil {
			g.Provider, providerOK = l.providerRef("gateway_routes", a, ClassRegistry)
			if providerOK && !ProviderSchemas[g.Provider.Kind].StoresConfig {
				l.errorf(a.Expr.Range(), "Provider cannot store configuration",
					"The gateway_routes block %q publishes a configuration document, but %s providers hold no configuration; use a provider whose kind has a configuration center (nacos).",
					g.Name, g.Provider.Kind)
				providerOK = false
			}
		}
		idOK := false
		if a := content.Attributes["data_id"]; a != nil {
			if v, ok := l.reqStr(a); ok {
				g.DataID, idOK = v, l.checkConfigName(a, v, maxDataIDLen)
			}
		}
		groupOK := true
		if a := content.Attributes["group"]; a != nil {
			v, ok := l.nonEmptyStr(a, DefaultConfigGroup)
			groupOK = ok && l.checkConfigName(a, v, maxConfigGroupLen)
			g.Group = v
		}
		if providerOK && idOK && groupOK {
			key := g.Provider.String() + "\x00" + g.Group + "\x00" + g.DataID
			if prev, dup := l.gatewayDocs[key]; dup {
				l.errorf(b.DefRange, "Duplicate gateway routes document",
					"The document %s in group %s of %s is already published by the gateway_routes block at %s; each document holds the routes of one service.",
					g.DataID, g.Group, g.Provider, prev)
				continue
			}
			if l.gatewayDocs == nil {
				l.gatewayDocs = map[string]hcl.Range{}
			}
			l.gatewayDocs[key] = b.DefRange
		}
		s.GatewayRoutes = append(s.GatewayRoutes, g)
	}
}

// checkConfigName checks a data id or group: the characters Nacos accepts, at
// most max of them.
func (l *loader) checkConfigName(a *hcl.Attribute, v string, max int) bool {
	switch {
	case len(v) > max:
		l.errorf(a.Expr.Range(), "Invalid configuration name",
			"The argument %q is %d characters long; Nacos stores at most %d.", a.Name, len(v), max)
		return false
	case !configNamePattern.MatchString(v):
		l.errorf(a.Expr.Range(), "Invalid configuration name",
			"The argument %q is %q; Nacos accepts only letters, digits, '.', ':', '_' and '-' in it.", a.Name, v)
		return false
	}
	return true
}
