package lang

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// strategyKinds lists the strategy labels.
var strategyKinds = []string{string(Rolling), string(BlueGreen), string(Canary)}

// decodeStrategy decodes the one strategy block a service must have.
func (l *loader) decodeStrategy(s *Service, blocks []*hcl.Block) {
	if len(blocks) == 0 {
		l.errorf(s.DeclRange, "Missing strategy block",
			"The service %q needs exactly one strategy block: strategy \"rolling\", \"blue_green\" or \"canary\".", s.Name)
		return
	}
	b := l.uniqueBlock(blocks, "strategy")
	kind := StrategyKind(b.Labels[0])
	schema, known := strategySchemas[kind]
	if !known {
		l.errorf(b.LabelRanges[0], "Invalid strategy",
			"There is no strategy %q; use %s.%s", kind, quotedList(strategyKinds), didYouMean(string(kind), strategyKinds))
		return
	}
	content, d := b.Body.Content(schema)
	l.diags = l.diags.Append(d)
	st := &Strategy{Kind: kind, DeclRange: b.DefRange}
	switch kind {
	case Rolling:
		st.Batch = l.decodeBatch(content.Attributes["batch"])
	case BlueGreen:
		st.KeepStandby, _ = l.boolean(content.Attributes["keep_standby"], false)
	case Canary:
		st.Steps = l.decodeSteps(s, b, blocksOfType(content, "step"))
	}
	if kind != Rolling && groupsWithInstances(s) == 1 {
		l.errorf(b.LabelRanges[0], "Too few groups",
			"The %s strategy moves traffic between groups, so the service %q needs at least two groups with instances.", kind, s.Name)
	}
	s.Strategy = st
}

// decodeBatch decodes a rolling batch: "group", a positive count or "P%".
func (l *loader) decodeBatch(a *hcl.Attribute) Batch {
	if a == nil {
		return Batch{ByGroup: true}
	}
	v, ok := l.value(a, cty.DynamicPseudoType)
	if !ok {
		return Batch{ByGroup: true}
	}
	if v.IsNull() {
		return Batch{ByGroup: true}
	}
	bad := func() Batch {
		l.errorf(a.Expr.Range(), "Invalid batch",
			"The batch must be \"group\", a positive whole number of instances or a percentage from \"1%%\" to \"100%%\", not %s.", describeValue(v))
		return Batch{ByGroup: true}
	}
	switch v.Type() {
	case cty.Number:
		bf := v.AsBigFloat()
		n, acc := bf.Int64()
		if !bf.IsInt() || acc != 0 || n < 1 || n > 1<<31-1 {
			return bad()
		}
		return Batch{Count: int(n)}
	case cty.String:
		s := strings.TrimSpace(v.AsString())
		if s == "group" {
			return Batch{ByGroup: true}
		}
		if p, isPercent := strings.CutSuffix(s, "%"); isPercent {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 1 || n > 100 {
				return bad()
			}
			return Batch{Percent: n}
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return bad()
		}
		return Batch{Count: n}
	}
	return bad()
}

// decodeSteps decodes canary steps: weights strictly rising within 1..100 (the
// first may be 0), the last 100; pauses are durations or "manual"; analyses are
// declared gates.
func (l *loader) decodeSteps(s *Service, strategy *hcl.Block, blocks []*hcl.Block) []CanaryStep {
	if len(blocks) == 0 {
		l.errorf(strategy.DefRange, "Missing canary steps",
			"A canary strategy needs step blocks whose weights rise to 100, like step { weight = 10 } step { weight = 100 }.")
		return nil
	}
	var steps []CanaryStep
	prev, lastWeight := 0, -1
	var lastRange hcl.Range
	for _, b := range blocks {
		content, d := b.Body.Content(stepSchema)
		l.diags = l.diags.Append(d)
		step := CanaryStep{DeclRange: b.DefRange}
		lastWeight = -1
		if a := content.Attributes["weight"]; a != nil {
			lastRange = a.Expr.Range()
			if w, ok := l.integer(a, -1); ok && w != -1 {
				first := len(steps) == 0
				switch {
				case w == 0 && first:
					// A dark canary: the group runs the new version and gets only the
					// requests its routes send it (a grey release by attribute).
					step.Weight, lastWeight = 0, 0
				case w < 0 || w > 100 || w == 0:
					l.errorf(a.Expr.Range(), "Invalid canary weight", "A canary step's weight is a percentage of traffic from 1 to 100 "+
						"(0 only in the first step: the canary then gets only the requests its routes send it); it is %d.", w)
				case w <= prev:
					l.errorf(a.Expr.Range(), "Invalid canary weight", "Canary weights must strictly rise from step to step; %d follows %d.", w, prev)
				default:
					step.Weight, prev, lastWeight = w, w, w
				}
			}
		}
		if a := content.Attributes["pause"]; a != nil {
			if v, ok := l.value(a, cty.String); ok && !v.IsNull() {
				if p := v.AsString(); p == "manual" {
					step.PauseUntilResumed = true
				} else {
					step.Pause, _ = l.checkDuration(a.Name, a.Expr.Range(), p, boundsPause)
				}
			}
		}
		if a := content.Attributes["analysis"]; a != nil {
			names, _ := l.stringList(a)
			for _, n := range names {
				if _, ok := s.Analyses[n.s]; !ok {
					l.errorf(n.rng, "Reference to undeclared analysis",
						"The service %q has no analysis %q.%s", s.Name, n.s, didYouMean(n.s, slices.Sorted(maps.Keys(s.Analyses))))
					continue
				}
				step.Analysis = append(step.Analysis, n.s)
			}
		}
		steps = append(steps, step)
	}
	if lastWeight != -1 && lastWeight != 100 {
		l.errorf(lastRange, "Invalid canary weight",
			"The last canary step's weight must be 100 so that the release completes; it is %d.", lastWeight)
	}
	return steps
}

// describeValue renders a value for an error message.
func describeValue(v cty.Value) string {
	switch {
	case !v.IsKnown():
		return "an unknown value"
	case v.IsNull():
		return "null"
	case v.Type() == cty.String:
		return strconv.Quote(v.AsString())
	case v.Type() == cty.Number:
		return v.AsBigFloat().Text('g', 10)
	case v.Type() == cty.Bool:
		return strconv.FormatBool(v.True())
	}
	return "a " + v.Type().FriendlyName()
}
