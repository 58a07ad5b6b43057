package lang

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckNesting checks what counts as a level and what does not: every case
// is either accepted or refused at the line:column given.
func TestCheckNesting(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	lines := func(line string, n int) string { return strings.Repeat(line+"\n", n) }
	tests := map[string]struct {
		src  string
		want string // "line:column" of the refusal, "" when accepted
	}{
		"100 brackets":           {"x = " + deep("[", "]", 100), ""},
		"101 brackets":           {"x = " + deep("[", "]", 101), "1:105"},
		"101 braces":             {"x = " + deep("{a=", "}", 101), "1:305"},
		"101 parentheses":        {"x = " + deep("(", ")", 101), "1:105"},
		"mixed":                  {"x = " + deep("[(", ")]", 51), "1:105"},
		"nested blocks":          {lines("a {", 101), "101:3"},
		"100,000 brackets":       {"x = " + strings.Repeat("[", 100000), "1:105"},
		"101 interpolations":     {"x = " + deep(`"${`, `}"`, 101), "1:306"},
		"heredoc interpolations": {"x = " + strings.Repeat("<<E\n${", 101), "102:1"},
		"101 unary operators":    {"x = " + strings.Repeat("!", 101) + "true", "1:105"},
		"101 negations":          {"x = " + strings.Repeat("- ", 101) + "1", "1:205"},
		"101 conditionals":       {"x = " + strings.Repeat("a ? b : ", 101) + "c", "1:807"},
		"101 splats":             {"x = a" + strings.Repeat("[*]", 101), "1:306"},
		"101 dot splats":         {"x = a" + strings.Repeat(".*", 101), "1:206"},
		"100 open if directives": {`x = "` + strings.Repeat("%{ if c }", 100) + `"`, "1:897"},

		"brackets in a string":     {`x = "` + strings.Repeat("[{(", 1000) + `"`, ""},
		"escaped interpolations":   {`x = "` + strings.Repeat("$${", 1000) + `"`, ""},
		"escaped quotes":           {`x = "` + strings.Repeat(`\"[`, 1000) + `"`, ""},
		"brackets in comments":     {"# " + strings.Repeat("[", 1000) + "\n// " + strings.Repeat("(", 1000) + "\n/* " + strings.Repeat("{", 1000) + " */\nx = 1", ""},
		"brackets in a heredoc":    {"x = <<-EOT\n  " + strings.Repeat("[", 1000) + "\n  EOT\ny = [1]\n", ""},
		"binary minus":             {"x = " + strings.Repeat("a - ", 1000) + "b", ""},
		"unary in separate items":  {"x = [" + strings.Repeat("!a, ", 1000) + "]", ""},
		"conditionals per line":    {"locals {\n" + lines("  x = a ? b : c", 1000) + "}\n", ""},
		"conditionals per element": {"x = [" + strings.Repeat("a ? b : c, ", 1000) + "]", ""},
		"directives closed":        {`x = "` + strings.Repeat("%{ if c }a%{ endif }", 1000) + `"`, ""},
		"for directives closed":    {"x = <<EOT\n" + lines("%{ for v in l }${v}%{ endfor }", 1000) + "EOT\n", ""},
		"indexes":                  {"x = a" + strings.Repeat("[0]", 1000), ""},
		"unterminated string":      {"x = \"" + strings.Repeat("[", 1000) + "\ny = 1", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := CheckNesting([]byte(tc.src), "main.ns.hcl")
			got := ""
			if len(d) > 0 {
				got = fmt.Sprintf("%d:%d", d[0].Subject.Start.Line, d[0].Subject.Start.Column)
				if d[0].Summary != "Configuration nested too deeply" || !strings.Contains(d[0].Detail, "100 levels") {
					t.Errorf("diagnostic %s", d[0].Error())
				}
			}
			if got != tc.want {
				t.Errorf("refused at %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckNestingAcceptsTestdata checks that no configuration in testdata is
// refused: the pre-scan must never stand in the way of a real configuration.
func TestCheckNestingAcceptsTestdata(t *testing.T) {
	for _, src := range testdataSources(t) {
		if d := CheckNesting(src.b, src.name); len(d) > 0 && !strings.Contains(src.name, "nesting_") {
			t.Errorf("%s refused: %s", src.name, d.Error())
		}
	}
}

type namedSource struct {
	name string
	b    []byte
}

// testdataSources returns every configuration file under testdata and examples.
func testdataSources(t *testing.T) []namedSource {
	t.Helper()
	var out []namedSource
	for _, pattern := range []string{"testdata/*/*.ns.hcl", "../examples/*/*.ns.hcl", "../cmd/nonstop/command/testdata/*/*/*.ns.hcl"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, namedSource{p, b})
		}
	}
	if len(out) < 50 {
		t.Fatalf("found only %d configurations", len(out))
	}
	return out
}
