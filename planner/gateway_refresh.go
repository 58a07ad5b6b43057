package planner

import (
	"context"

	"github.com/hashicorp/hcl/v2"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/providers"
)

// LiveGateway is a gateway routes document as a refresh read it.
type LiveGateway struct {
	// Provider is the configuration center, "nacos.prod".
	Provider string `json:"provider"`
	DataID   string `json:"data_id"`
	Group    string `json:"group"`
	// Found is false when the document does not exist.
	Found   bool   `json:"found"`
	Content string `json:"content,omitempty"`
	// MD5 is the MD5 hex of Content ("" when not found): what a publish expects
	// to find, and part of the plan's fingerprints.
	MD5 string `json:"md5,omitempty"`
}

// gatewayRead is the read of one gateway_routes block's document.
type gatewayRead struct {
	service   string
	name      string
	ref       lang.ProviderRef
	reader    providers.ConfigReader
	key       providers.ConfigKey
	declRange hcl.Range

	doc LiveGateway
	ok  bool
}

// planGatewayReads lists the document reads of the named services' gateway_routes
// blocks. A provider that is not open or holds no configuration is an error at
// the block.
func planGatewayReads(cfg *lang.Config, provs Providers, names []string) ([]*gatewayRead, diags.Diagnostics) {
	var ds diags.Diagnostics
	var reads []*gatewayRead
	for _, name := range names {
		for _, gw := range cfg.Services[name].GatewayRoutes {
			p := provs[gw.Provider]
			reader, ok := p.(providers.ConfigReader)
			switch {
			case p == nil:
				ds = ds.Append(diags.Errorf(&gw.DeclRange, "Provider not open",
					"The gateway_routes block %q of service %q uses %s, which is not an open provider.", gw.Name, name, gw.Provider))
				continue
			case !ok:
				ds = ds.Append(diags.Errorf(&gw.DeclRange, "Provider holds no configuration",
					"The gateway_routes block %q of service %q uses %s, but %s providers cannot read configuration documents.", gw.Name, name, gw.Provider, gw.Provider.Kind))
				continue
			}
			reads = append(reads, &gatewayRead{service: name, name: gw.Name, ref: gw.Provider, reader: reader,
				key: providers.ConfigKey{DataID: gw.DataID, Group: gw.Group}, declRange: gw.DeclRange})
		}
	}
	return reads, ds
}

// read reads the document.
func (r *gatewayRead) read(ctx context.Context) error {
	content, md5, found, err := r.reader.GetConfig(ctx, r.key)
	if err != nil {
		return err
	}
	r.doc = LiveGateway{Provider: r.ref.String(), DataID: r.key.DataID, Group: r.key.Group, Found: found}
	if found {
		r.doc.Content, r.doc.MD5 = content, md5
	}
	r.ok = true
	return nil
}

// attachGateways puts the documents read into the live model.
func attachGateways(live *Live, reads []*gatewayRead) {
	for _, r := range reads {
		ls := live.Services[r.service]
		if !r.ok || ls == nil {
			continue
		}
		if ls.Gateways == nil {
			ls.Gateways = map[string]*LiveGateway{}
		}
		doc := r.doc
		ls.Gateways[r.name] = &doc
	}
}

// appendGateway encodes what a plan depends on in a document: where it is,
// whether it exists and its MD5.
func appendGateway(b []byte, g *LiveGateway) []byte {
	b = append(b, g.Provider...)
	b = append(b, 0)
	b = append(b, g.Group...)
	b = append(b, 0)
	b = append(b, g.DataID...)
	b = append(b, 0)
	if g.Found {
		b = append(b, "found"...)
	}
	b = append(b, 0)
	return append(b, g.MD5...)
}
