package gatewayroutes

import "maps"

// FieldDiff is one field of a document that differs: "present" (the document
// exists), "format", "service", "route NAME" (a route added or removed), "route
// NAME version", "route NAME match", "weights", or "content" (the same fields
// written differently). Values are strings, or booleans for "present"; nil for a
// route that one side lacks.
type FieldDiff struct {
	Field  string
	Before any
	After  any
}

// Diff compares a live document with the desired one, field by field. live is
// nil when the document does not exist; liveErr says why live text could not be
// read as a document (then every field of want is reported against it).
// liveText and wantText are the documents' bytes: when no field differs but the
// bytes do (a hand edit that only reformatted it), the one difference is
// "content".
func Diff(live *Document, liveErr error, liveText string, want Document, wantText string) []FieldDiff {
	switch {
	case live == nil && liveErr == nil:
		return []FieldDiff{{Field: "present", Before: false, After: true}}
	case liveErr != nil:
		return []FieldDiff{{Field: "content", Before: liveErr.Error(), After: Format}}
	}
	var out []FieldDiff
	add := func(field string, before, after any) {
		out = append(out, FieldDiff{Field: field, Before: before, After: after})
	}
	if live.Service != want.Service {
		add("service", live.Service, want.Service)
	}
	have := map[string]Route{}
	for _, r := range live.Routes {
		have[r.Name] = r
	}
	wantNames := map[string]bool{}
	for _, w := range want.Routes {
		wantNames[w.Name] = true
		h, ok := have[w.Name]
		switch {
		case !ok:
			add("route "+w.Name, nil, routeText(w))
		default:
			if h.Version != w.Version {
				add("route "+w.Name+" version", h.Version, w.Version)
			}
			if hm, wm := h.Match.String(), w.Match.String(); hm != wm {
				add("route "+w.Name+" match", hm, wm)
			}
		}
	}
	for _, h := range live.Routes {
		if !wantNames[h.Name] {
			add("route "+h.Name, routeText(h), nil)
		}
	}
	if !maps.Equal(live.Weights, want.Weights) {
		add("weights", WeightsText(live.Weights), WeightsText(want.Weights))
	}
	if len(out) == 0 && liveText != wantText {
		add("content", "edited by hand (md5 "+MD5(liveText, true)+")", "canonical (md5 "+MD5(wantText, true)+")")
	}
	return out
}

// routeText prints a route: "version=1.5.0 header={X-Canary=1}".
func routeText(r Route) string { return "version=" + r.Version + " " + r.Match.String() }
