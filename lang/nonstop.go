package lang

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// DefaultStatePath is where local state lives when no state block says otherwise.
const DefaultStatePath = ".nonstop"

// stateSensitive lists the state backend attributes that must never be printed.
var stateSensitive = map[string]map[string]bool{
	"local":    {},
	"postgres": {"dsn": true},
}

// decodeNonstop decodes the nonstop block: required_version and the state backend.
func (l *loader) decodeNonstop(blocks []*hcl.Block) {
	ns := &Nonstop{State: defaultState()}
	l.cfg.Nonstop = ns
	b := l.uniqueBlock(blocks, "nonstop")
	if b == nil {
		return
	}
	ns.DeclRange = b.DefRange
	content, d := b.Body.Content(nonstopSchema)
	l.diags = l.diags.Append(d)
	if a := content.Attributes["required_version"]; a != nil {
		if v, ok := l.constant(a, cty.String); ok && !v.IsNull() {
			ns.RequiredVersion = v.AsString()
			malformed, err := checkRequiredVersion(ns.RequiredVersion, Version)
			switch {
			case err != nil && malformed:
				l.errorf(a.Expr.Range(), "Invalid required_version",
					"The version constraint is not valid: %s. Write it like \">= 0.1.0, < 1.0.0\" with the operators =, !=, >, >=, <, <= and ~>.", err)
			case err != nil:
				l.errorf(a.Expr.Range(), "Unsupported nonstop version", "%s; use a nonstop release that the constraint allows.", capitalize(err.Error()))
			}
		}
	}
	if sb := l.uniqueBlock(blocksOfType(content, "state"), "state"); sb != nil {
		if st := l.decodeState(sb); st != nil {
			ns.State = st
		}
	}
}

func defaultState() *StateBackend {
	return &StateBackend{
		Kind:      "local",
		Attrs:     map[string]cty.Value{"path": cty.StringVal(DefaultStatePath)},
		Sensitive: map[string]bool{},
	}
}

// decodeState decodes a state "local" or state "postgres" block.
func (l *loader) decodeState(b *hcl.Block) *StateBackend {
	kind := b.Labels[0]
	schema, known := stateSchemas[kind]
	if !known {
		l.errorf(b.LabelRanges[0], "Invalid state backend",
			"There is no state backend %q; use %s.%s", kind, quotedList(slices.Sorted(maps.Keys(stateSchemas))), didYouMean(kind, slices.Sorted(maps.Keys(stateSchemas))))
		return nil
	}
	content, d := b.Body.Content(schema)
	l.diags = l.diags.Append(d)
	st := &StateBackend{Kind: kind, Attrs: map[string]cty.Value{}, Sensitive: map[string]bool{}, DeclRange: b.DefRange}
	for k, v := range stateSensitive[kind] {
		st.Sensitive[k] = v
	}
	switch kind {
	case "local":
		path, ok := l.str(content.Attributes["path"], DefaultStatePath)
		if ok && path == "" {
			l.errorf(content.Attributes["path"].Expr.Range(), "Empty argument", "The argument \"path\" must be set to a non-empty string.")
		}
		st.Attrs["path"] = cty.StringVal(path)
	case "postgres":
		dsn, _ := l.reqStr(content.Attributes["dsn"])
		st.Attrs["dsn"] = cty.StringVal(dsn)
		// workspace separates several configurations sharing one database.
		workspace, ok := l.str(content.Attributes["workspace"], "default")
		if ok && workspace == "" {
			l.errorf(content.Attributes["workspace"].Expr.Range(), "Empty argument", "The argument \"workspace\" must be set to a non-empty string.")
		}
		st.Attrs["workspace"] = cty.StringVal(workspace)
	}
	return st
}

// capitalize upper-cases the first letter of a sentence built from an error string.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return fmt.Sprintf("%c%s", s[0]-'a'+'A', s[1:])
}
