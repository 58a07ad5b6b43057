package demo

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

// HCLString renders s as an HCL string literal.
func HCLString(s string) string { return fmt.Sprintf("%q", s) }

// HCLList renders items as an HCL tuple of strings.
func HCLList(items []string) string { return hclList(items) }

// HCLMap renders m as an HCL object of strings, keys sorted.
func HCLMap(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%q = %q", k, m[k]))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

var variableBlock = regexp.MustCompile(`(?m)^variable\s+"([^"]+)"`)

// DeclaredVariables returns the names of the variables a configuration text
// declares.
func DeclaredVariables(text []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range variableBlock.FindAllSubmatch(text, -1) {
		out[string(m[1])] = true
	}
	return out
}

// WriteVarFile writes a -var-file with the values (HCL expressions) of the
// variables in declared, one `name = value` line each, sorted by name; values of
// variables the configuration does not declare are left out (nonstop refuses
// them).
func WriteVarFile(path string, declared map[string]bool, values map[string]string) error {
	var b strings.Builder
	b.WriteString("# Written by `make demo`: the demo fleet's addresses and paths.\n")
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if declared[name] {
			fmt.Fprintf(&b, "%s = %s\n", name, values[name])
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

var strategyBlock = regexp.MustCompile(`(?ms)^  strategy "[a-z_]+" \{\n.*?^  \}\n`)

// WithStrategy returns a configuration text (one service) whose strategy block
// is replaced by strategy, and extra (route and analysis blocks) inserted before
// the service's on_failure line. It fails unless the text has exactly one
// strategy block, indented by two spaces, and one on_failure line.
func WithStrategy(text []byte, strategy, extra string) ([]byte, error) {
	s := string(text)
	if n := len(strategyBlock.FindAllStringIndex(s, -1)); n != 1 {
		return nil, fmt.Errorf("want exactly one strategy block indented by two spaces, found %d", n)
	}
	s = strategyBlock.ReplaceAllLiteralString(s, indent(strategy, "  ")+"\n")
	if extra != "" {
		const mark = "\n  on_failure"
		if strings.Count(s, mark) != 1 {
			return nil, fmt.Errorf("want exactly one on_failure line")
		}
		s = strings.Replace(s, mark, "\n"+indent(extra, "  ")+"\n"+mark, 1)
	}
	return []byte(s), nil
}

// indent prefixes every non-empty line of s.
func indent(s, prefix string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
