package planner

import (
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers/gatewayroutes"
)

// gatewayFields compares the live document of a gateway_routes block with the
// document the service wants at rest. read is false when the document was not read.
func gatewayFields(svc *lang.Service, gw *lang.GatewayRoutes, lg *LiveGateway) (diffs []gatewayroutes.FieldDiff, read bool) {
	if lg == nil {
		return nil, false
	}
	want := gatewayroutes.Desired(svc, gatewayroutes.SteadyWeights(svc.Version))
	wantText := want.Marshal()
	if lg.Found && lg.Content == wantText {
		return nil, true
	}
	var live *gatewayroutes.Document
	var liveErr error
	if lg.Found {
		d, err := gatewayroutes.Parse(lg.Content)
		live, liveErr = &d, err
	}
	return gatewayroutes.Diff(live, liveErr, lg.Content, want, wantText), true
}

// appendGatewayDiff appends the changes of the service's gateway routes documents:
// every field of a document to create, else each field that differs.
func appendGatewayDiff(out []Change, start *serviceModel) []Change {
	svc := start.svc
	for _, gw := range svc.GatewayRoutes {
		lg := start.gateways[gw.Name]
		diffs, read := gatewayFields(svc, gw, lg)
		if !read || len(diffs) == 0 {
			continue
		}
		addr := gatewayKey(gw)
		if !lg.Found {
			want := gatewayroutes.Desired(svc, gatewayroutes.SteadyWeights(svc.Version))
			diffs = gatewayroutes.Diff(&gatewayroutes.Document{Format: gatewayroutes.Format, Service: svc.Name}, nil, "", want, want.Marshal())
			for _, d := range diffs {
				out = append(out, Change{Action: Create, Service: svc.Name, Object: "gateway", Address: addr,
					Field: d.Field, After: d.After})
			}
			continue
		}
		for _, d := range diffs {
			out = append(out, Change{Action: Update, Service: svc.Name, Object: "gateway", Address: addr,
				Field: d.Field, Before: d.Before, After: d.After})
		}
	}
	return out
}

// gateways reports each gateway routes document that differs from the service's
// document at rest, field by field; a missing document is Field "present".
func (d *serviceDrift) gateways() {
	for _, gw := range d.svc.GatewayRoutes {
		diffs, _ := gatewayFields(d.svc, gw, d.live.Gateways[gw.Name])
		for _, f := range diffs {
			d.add("gateway", gatewayKey(gw), f.Field, f.After, f.Before)
		}
	}
}
