package planner

import (
	"maps"
	"slices"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/providers/gatewayroutes"
)

// A service's gateway_routes blocks each hold the same document: its routes and
// the share of unmatched traffic per version (docs/gateway-routes.md). At rest the
// document gives 100 to the service's version. A release publishes it the way a
// balancer's routes are set: a document that sends requests to a version is
// published only once an instance of that version serves and keeps serving to the
// end of the release, and only while every version of the document it replaces
// still has one. A canary release also publishes, after each traffic step below
// 100, the step's split: the step's weight to the new version, the rest to the
// versions the other instances serve.

// GatewayArgs are the arguments of a gateway.publish step.
type GatewayArgs struct {
	// Name is the gateway_routes block.
	Name   string `json:"name"`
	DataID string `json:"data_id"`
	Group  string `json:"group"`
	// Content is the document to write; "" removes the document (a rollback of
	// one that did not exist).
	Content string `json:"content,omitempty"`
	// Weights are the document's weights, for people reading the plan.
	Weights map[string]int `json:"weights,omitempty"`
	// Expect are the MD5s the stored document may have for the write to go ahead
	// ("" for an absent document): the one the plan read, or the one the previous
	// step of the plan wrote. Anything else means it changed since it was read.
	Expect []string `json:"expect_md5"`
}

// canaryMark is a canary traffic step: after stage, weight percent goes to the
// new version (100: the promotion).
type canaryMark struct {
	stage  int
	weight int
}

// markCanary records that the stages emitted so far end with a canary traffic
// step of weight percent.
func (b *builder) markCanary(weight int) {
	b.canaryMarks = append(b.canaryMarks, canaryMark{stage: len(b.stages), weight: weight})
}

// gatewayDoc is one document the plan publishes, after stage boundary at.
type gatewayDoc struct {
	at   int
	doc  gatewayroutes.Document
	text string
}

// placeGatewayRoutes adds the gateway.publish steps of the service's gateway_routes
// blocks to its stages: nothing when every document already holds the desired
// text.
func (b *builder) placeGatewayRoutes(start *serviceModel) diags.Diagnostics {
	svc := start.svc
	if len(svc.GatewayRoutes) == 0 {
		return nil
	}
	final := gatewayroutes.Desired(svc, gatewayroutes.SteadyWeights(svc.Version))
	finalText := final.Marshal()
	var stale []*lang.GatewayRoutes
	for _, gw := range svc.GatewayRoutes {
		if lg := start.gateways[gw.Name]; lg == nil || !lg.Found || lg.Content != finalText {
			stale = append(stale, gw)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	upVer, deployed := simulateStages(start, b.stages, b.steps)
	tl := &serveTimeline{upVer: upVer, deployed: deployed}
	for _, im := range start.insts {
		tl.addrs = append(tl.addrs, im.addr)
	}
	last := len(b.stages)
	var ds diags.Diagnostics
	for _, r := range svc.Routes {
		if !slices.Contains(upVer[last], r.Version) {
			ds = ds.Append(diags.Errorf(rangeOf(r.DeclRange), "Route to a version no instance serves",
				"Route %q sends requests to version %s, but after this release no instance of %s runs it (they run %s). "+
					"Point the route at a version that is deployed, or remove it.", r.Name, r.Version, svc.Name, svc.Version))
		}
	}
	if ds.HasErrors() {
		return ds
	}

	// The canary splits, then the final document at the earliest boundary from
	// which its versions serve to the end.
	var docs []gatewayDoc
	from := 0
	for _, mk := range b.canaryMarks {
		if mk.weight >= 100 { // the promotion: the final document follows
			from = mk.stage
			continue
		}
		weights := canaryDocWeights(upVer[mk.stage], svc.Version, mk.weight)
		if weights == nil {
			continue
		}
		d := gatewayroutes.Desired(svc, weights)
		docs = append(docs, gatewayDoc{at: mk.stage, doc: d, text: d.Marshal()})
		from = mk.stage
	}
	at := -1
	for k := from; k <= last && at < 0; k++ {
		if tl.servesFrom(final.Versions(), k) {
			at = k
		}
	}
	if at < 0 {
		return ds.Append(diags.Errorf(rangeOf(svc.GatewayRoutes[0].DeclRange), "Gateway routes cannot change without a gap",
			"The gateway routes document of %s sends requests to %s, but no point of the release has an instance of each serving from then to the end. "+
				"Release the service first, then change the routes.", svc.Name, quotedVersions(final.Versions())))
	}
	docs = append(docs, gatewayDoc{at: at, doc: final, text: finalText})

	byStage := map[int]stage{}
	for _, gw := range stale {
		if err := tl.checkSequence(start.gateways[gw.Name], docs); err != "" {
			ds = ds.Append(diags.Errorf(rangeOf(gw.DeclRange), "Gateway routes cannot change without a gap",
				"The gateway routes document %s (group %s) of %s: %s. Release the service first, then change the routes.",
				gw.DataID, gw.Group, svc.Name, err))
			continue
		}
		expect := ""
		if lg := start.gateways[gw.Name]; lg != nil && lg.Found {
			expect = lg.MD5
		}
		var c chain
		for i, d := range docs {
			s := Step{Kind: GatewayPublish, Target: gatewayKey(gw), Args: StepArgs{Provider: gw.Provider.String(),
				Gateway: &GatewayArgs{Name: gw.Name, DataID: gw.DataID, Group: gw.Group, Content: d.text,
					Weights: maps.Clone(d.doc.Weights), Expect: []string{expect}}}}
			expect = gatewayroutes.MD5(d.text, true)
			if i > 0 && d.at != docs[i-1].at {
				byStage[docs[i-1].at] = append(byStage[docs[i-1].at], c)
				c = chain{}
			}
			b.emit(&c, s)
		}
		byStage[docs[len(docs)-1].at] = append(byStage[docs[len(docs)-1].at], c)
	}
	for _, k := range slices.Backward(slices.Sorted(maps.Keys(byStage))) {
		b.stages = slices.Insert(b.stages, k, byStage[k])
	}
	return ds
}

// canaryDocWeights returns a canary split of pct percent to version and the rest
// shared evenly by the other versions up at the boundary (the first takes what
// does not divide), or nil when no other version is up.
func canaryDocWeights(up []string, version string, pct int) map[string]int {
	others := map[string]bool{}
	for _, v := range up {
		if v != "" && v != version {
			others[v] = true
		}
	}
	if len(others) == 0 || !slices.Contains(up, version) {
		return nil
	}
	vs := slices.Sorted(maps.Keys(others))
	w := map[string]int{version: pct}
	rest := 100 - pct
	for i, v := range vs {
		w[v] = rest / len(vs)
		if i == 0 {
			w[v] += rest % len(vs)
		}
	}
	return w
}

// serveTimeline is what simulateStages says of a service's instances: upVer[k][i]
// is the version instance i (at addrs[i]) is up at after k stages, deployed[k] the
// instances stage k deploys.
type serveTimeline struct {
	upVer    [][]string
	deployed []map[string]bool
	addrs    []string
}

// servesFrom reports whether every version has an instance up at boundary k that
// stays up, not redeployed, through every later stage.
func (tl *serveTimeline) servesFrom(versions []string, k int) bool {
	for _, v := range versions {
		if !tl.serves(v, k, len(tl.upVer)-1) {
			return false
		}
	}
	return true
}

// serves reports whether an instance up at v at boundary from stays up at
// v, not redeployed, through stage to.
func (tl *serveTimeline) serves(v string, from, to int) bool {
	for i, got := range tl.upVer[from] {
		if got != v {
			continue
		}
		ok := true
		for j := from + 1; j <= to && ok; j++ {
			ok = tl.upVer[j][i] == v && !tl.deployed[j][tl.addrs[i]]
		}
		if ok {
			return true
		}
	}
	return false
}

// checkSequence checks that the live document (while it serves: its
// versions that are up at the start) and each published document keep a serving
// instance of each of their versions until the next replaces them. It returns
// what breaks, or "".
func (tl *serveTimeline) checkSequence(live *LiveGateway, docs []gatewayDoc) string {
	if live != nil && live.Found {
		if d, err := gatewayroutes.Parse(live.Content); err == nil {
			for _, v := range d.Versions() {
				if slices.Contains(tl.upVer[0], v) && !tl.serves(v, 0, docs[0].at) {
					return "the live document sends requests to version " + v + ", which stops serving before it is replaced"
				}
			}
		}
	}
	for i, d := range docs {
		to := len(tl.upVer) - 1
		if i+1 < len(docs) {
			to = docs[i+1].at
		}
		for _, v := range d.doc.Versions() {
			if !tl.serves(v, d.at, to) {
				return "a document with weights " + gatewayroutes.WeightsText(d.doc.Weights) + " would send requests to version " + v + " while no instance serves it"
			}
		}
	}
	return ""
}

// gatewayKey names a document: "nacos.prod/GATEWAY/order-service.routes.json".
func gatewayKey(gw *lang.GatewayRoutes) string {
	return gw.Provider.String() + "/" + gw.Group + "/" + gw.DataID
}

// quotedVersions prints versions for a message: "1.4.2 and 1.5.0".
func quotedVersions(vs []string) string {
	switch len(vs) {
	case 0:
		return "no version"
	case 1:
		return "version " + vs[0]
	}
	out := "versions "
	for i, v := range vs {
		switch {
		case i == len(vs)-1:
			out += " and "
		case i > 0:
			out += ", "
		}
		out += v
	}
	return out
}
