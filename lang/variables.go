package lang

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// EnvVarPrefix prefixes environment variables that set input variables:
// NONSTOP_VAR_order_version sets var.order_version.
const EnvVarPrefix = "NONSTOP_VAR_"

// decodeVariables decodes the variable blocks and gives each variable its value:
// the default, overridden by NONSTOP_VAR_<name>, then -var-file, then -var. A
// variable left without a value is an error, or unknown with UnsetUnknown.
func (l *loader) decodeVariables(blocks []*hcl.Block) {
	var order []*Variable
	for _, b := range blocks {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			l.errorf(b.LabelRanges[0], "Invalid variable name",
				"%q is not a valid name; a name starts with a letter and contains only letters, digits, underscores and dashes.", name)
			continue
		}
		if prev, dup := l.cfg.Variables[name]; dup {
			l.errorf(b.DefRange, "Duplicate variable declaration",
				"A variable named %q was already declared at %s.", name, prev.DeclRange)
			continue
		}
		v := l.decodeVariable(name, b)
		l.cfg.Variables[name] = v
		l.varNames[name] = true
		order = append(order, v)
	}
	for _, v := range order {
		if raw, ok := l.getenv(EnvVarPrefix + v.Name); ok {
			l.assignRaw(v, raw, fmt.Sprintf("the environment variable %s%s", EnvVarPrefix, v.Name))
		}
	}
	for _, path := range l.opts.VarFiles {
		l.loadVarFile(path)
	}
	for _, opt := range l.opts.Vars {
		l.assignVarOption(opt)
	}
	for _, v := range order {
		if v.Value == cty.NilVal && l.opts.UnsetUnknown {
			v.Value = cty.UnknownVal(v.Type)
			continue
		}
		if v.Value == cty.NilVal {
			l.errorf(v.DeclRange, "Required variable not set",
				"The variable %q has no default, so it must be set with -var, -var-file or %s%s.", v.Name, EnvVarPrefix, v.Name)
			v.Value = cty.DynamicVal
		}
	}
}

// decodeVariable decodes one variable block's type, default, description and sensitive.
func (l *loader) decodeVariable(name string, b *hcl.Block) *Variable {
	v := &Variable{Name: name, Type: cty.DynamicPseudoType, Default: cty.NilVal, DeclRange: b.DefRange}
	content, d := b.Body.Content(variableSchema)
	l.diags = l.diags.Append(d)
	if a := content.Attributes["type"]; a != nil {
		ty, d := typeexpr.TypeConstraint(a.Expr)
		l.diags = l.diags.Append(d)
		if !d.HasErrors() {
			v.Type = ty
		}
	}
	if a := content.Attributes["description"]; a != nil {
		if val, ok := l.constant(a, cty.String); ok && !val.IsNull() {
			v.Description = val.AsString()
		}
	}
	if a := content.Attributes["sensitive"]; a != nil {
		if val, ok := l.constant(a, cty.Bool); ok && !val.IsNull() {
			v.Sensitive = val.True()
		}
	}
	if a := content.Attributes["default"]; a != nil {
		if val, ok := l.constant(a, v.Type); ok {
			v.Default = val
			v.Value = val
		} else {
			v.Value = cty.DynamicVal // already reported; do not also report it as unset
		}
	}
	return v
}

// constant evaluates an attribute that may not reference anything and converts it to ty.
func (l *loader) constant(a *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	val, d := a.Expr.Value(nil)
	l.diags = l.diags.Append(d)
	if d.HasErrors() {
		return cty.DynamicVal, false
	}
	return l.convert(a.Name, a.Expr.Range(), val, ty)
}

// assignRaw sets v from a raw command-line or environment string.
func (l *loader) assignRaw(v *Variable, raw, source string) {
	if v.Type != cty.String && CheckNesting([]byte(raw), "<value>").HasErrors() {
		l.diags = l.diags.Append(diags.Sourceless(diags.Error, "Invalid value for variable",
			fmt.Sprintf("The value given by %s for var.%s nests more than %d levels deep; nonstop refuses it before parsing it.", source, v.Name, MaxNesting)))
		return
	}
	val := rawVariableValue(v.Type, raw)
	c, err := convert.Convert(val, v.Type)
	if err != nil {
		l.diags = l.diags.Append(diags.Sourceless(diags.Error, "Invalid value for variable",
			fmt.Sprintf("The value given by %s is not suitable for var.%s: %s.", source, v.Name, err)))
		return
	}
	v.Value = c
}

// rawVariableValue interprets a raw string the way Terraform does: for a string
// variable it is the string; otherwise it is parsed as an HCL expression when it
// is a constant that is not a string (a number, bool, list or map), and taken as
// the string itself when not.
func rawVariableValue(ty cty.Type, raw string) cty.Value {
	if ty == cty.String {
		return cty.StringVal(raw)
	}
	expr, d := hclsyntax.ParseExpression([]byte(raw), "<value>", hcl.InitialPos)
	if !d.HasErrors() {
		val, d := expr.Value(nil)
		if !d.HasErrors() && val.Type() != cty.String {
			return val
		}
	}
	return cty.StringVal(raw)
}

// assignVarOption applies one "-var name=value" option.
func (l *loader) assignVarOption(opt string) {
	name, raw, found := strings.Cut(opt, "=")
	name = strings.TrimSpace(name)
	if !found || name == "" {
		l.diags = l.diags.Append(diags.Sourceless(diags.Error, "Invalid -var option",
			fmt.Sprintf("The option -var %q is not of the form name=value.", opt)))
		return
	}
	v, ok := l.cfg.Variables[name]
	if !ok {
		l.diags = l.diags.Append(diags.Sourceless(diags.Error, "Value for undeclared variable",
			fmt.Sprintf("A variable named %q was set with -var, but it is not declared.%s", name, didYouMean(name, slices.Sorted(maps.Keys(l.varNames))))))
		return
	}
	l.assignRaw(v, raw, "-var "+name)
}

// loadVarFile applies a -var-file of HCL attributes.
func (l *loader) loadVarFile(path string) {
	src, err := ReadSourceFile(path)
	if err != nil {
		l.diags = l.diags.Append(readDiagnostic("variables file", err))
		return
	}
	l.cfg.Sources[path] = src
	if d := CheckNesting(src, path); d.HasErrors() {
		l.diags = l.diags.Append(d)
		return
	}
	f, d := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	l.diags = l.diags.Append(d)
	if d.HasErrors() {
		return
	}
	attrs, d := f.Body.JustAttributes()
	l.diags = l.diags.Append(d)
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		v, ok := l.cfg.Variables[name]
		if !ok {
			l.errorf(a.NameRange, "Value for undeclared variable",
				"A variable named %q was set in %s, but it is not declared.%s", name, path, didYouMean(name, slices.Sorted(maps.Keys(l.varNames))))
			continue
		}
		if val, ok := l.constant(a, v.Type); ok {
			v.Value = val
		}
	}
}
