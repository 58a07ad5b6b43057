package views

import (
	"strings"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers/gatewayroutes"
)

// gatewayArgsText renders a gateway.publish: "weights=1.4.2=90,1.5.0=10
// (expects md5 0123abcd…)", or "remove (expects ...)" for a rollback's removal.
func gatewayArgsText(g *planner.GatewayArgs) []string {
	var out []string
	if g.Content == "" {
		out = append(out, "remove")
	} else {
		out = append(out, "weights="+strings.ReplaceAll(gatewayroutes.WeightsText(g.Weights), " ", ","))
	}
	var expect []string
	for _, m := range g.Expect {
		if m == "" {
			expect = append(expect, "absent")
			continue
		}
		expect = append(expect, "md5 "+m[:min(8, len(m))])
	}
	if len(expect) > 0 {
		out = append(out, "(if "+strings.Join(expect, " or ")+")")
	}
	return out
}
