package diags

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

const renderSrc = "service \"order\" {\n  registry {\n    provider = ngin.edge\n  }\n\tweight = \"héllo\"\n}\n"

func rangeOf(t *testing.T, src, sub string) *hcl.Range {
	t.Helper()
	i := strings.Index(src, sub)
	if i < 0 {
		t.Fatalf("%q not in source", sub)
	}
	pos := func(off int) hcl.Pos {
		line := strings.Count(src[:off], "\n") + 1
		col := len([]rune(src[strings.LastIndex(src[:off], "\n")+1:off])) + 1
		return hcl.Pos{Line: line, Column: col, Byte: off}
	}
	return &hcl.Range{Filename: "main.ns.hcl", Start: pos(i), End: pos(i + len(sub))}
}

func TestRenderHuman(t *testing.T) {
	sources := map[string][]byte{"main.ns.hcl": []byte(renderSrc)}
	tests := map[string]struct {
		ds   Diagnostics
		want string
	}{
		"subject underlined": {
			ds: Diagnostics{Errorf(rangeOf(t, renderSrc, "ngin.edge"), "Invalid provider reference",
				"There is no provider %q.", "ngin.edge")},
			want: "Error: Invalid provider reference\n\n" +
				"  on main.ns.hcl line 3:\n" +
				"  3:     provider = ngin.edge\n" +
				"                    ^^^^^^^^^\n\n" +
				"There is no provider \"ngin.edge\".\n",
		},
		"tabs and multibyte characters keep the carets aligned": {
			ds: Diagnostics{Warningf(rangeOf(t, renderSrc, `"héllo"`), "Odd weight", "")},
			want: "Warning: Odd weight\n\n" +
				"  on main.ns.hcl line 5:\n" +
				"  5: \tweight = \"héllo\"\n" +
				"     \t         ^^^^^^^\n",
		},
		"multi-line subject": {
			ds: Diagnostics{Errorf(rangeOf(t, renderSrc, "registry {\n    provider"), "Bad block", "Nope.")},
			want: "Error: Bad block\n\n" +
				"  on main.ns.hcl line 2:\n" +
				"  2:   registry {\n" +
				"       ^^^^^^^^^^\n" +
				"  3:     provider = ngin.edge\n" +
				"     ^^^^^^^^^^^^\n\n" +
				"Nope.\n",
		},
		"unknown file has no snippet": {
			ds: Diagnostics{Errorf(&hcl.Range{Filename: "gone.ns.hcl", Start: hcl.Pos{Line: 9, Column: 1}, End: hcl.Pos{Line: 9, Column: 2}},
				"Gone", "")},
			want: "Error: Gone\n\n  on gone.ns.hcl line 9:\n",
		},
		"sourceless, two diagnostics, wrapped detail": {
			ds: Diagnostics{
				Sourceless(Error, "Registry unreachable", strings.Repeat("word ", 20)+"\n  kept   as is"),
				Sourceless(Warning, "Second", ""),
			},
			want: "Error: Registry unreachable\n\n" +
				strings.TrimSpace(strings.Repeat("word ", 15)) + "\n" +
				strings.TrimSpace(strings.Repeat("word ", 5)) + "\n" +
				"  kept   as is\n\n" +
				"Warning: Second\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			RenderHuman(&buf, tc.ds, sources, false)
			if diff := cmp.Diff(tc.want, buf.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderHumanColor(t *testing.T) {
	var buf bytes.Buffer
	ds := Diagnostics{Errorf(rangeOf(t, renderSrc, "ngin.edge"), "Invalid provider reference", "")}
	RenderHuman(&buf, ds, map[string][]byte{"main.ns.hcl": []byte(renderSrc)}, true)
	want := ansiBold + ansiRed + "Error: Invalid provider reference" + ansiReset + "\n\n" +
		"  on main.ns.hcl line 3:\n" +
		"  3:     provider = " + ansiUnder + "ngin.edge" + ansiReset + "\n" +
		"                    ^^^^^^^^^\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestWrap(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []string
	}{
		"short":     {"one two", []string{"one two"}},
		"exact fit": {"aaaa bbbb", []string{"aaaa bbbb"}},
		"breaks":    {"aaaa bbbb cc", []string{"aaaa bbbb", "cc"}},
		"long word": {"x " + strings.Repeat("y", 12) + " z", []string{"x", strings.Repeat("y", 12), "z"}},
		"paragraph": {"a b\n\nc", []string{"a b", "", "c"}},
	}
	for name, tc := range tests {
		if diff := cmp.Diff(tc.want, Wrap(tc.in, 9)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestJSON(t *testing.T) {
	ds := Diagnostics{
		Errorf(rangeOf(t, renderSrc, "ngin.edge"), "Invalid provider reference", "No such provider."),
		Sourceless(Warning, "Slow registry", "It took 3s."),
	}
	out, err := json.Marshal(JSON(ds))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"valid":false,"error_count":1,"warning_count":1,"diagnostics":[` +
		`{"severity":"error","summary":"Invalid provider reference","detail":"No such provider.",` +
		`"range":{"filename":"main.ns.hcl","start":{"line":3,"column":16,"byte":46},"end":{"line":3,"column":25,"byte":55}}},` +
		`{"severity":"warning","summary":"Slow registry","detail":"It took 3s."}]}`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
	empty, _ := json.Marshal(JSON(nil))
	if diff := cmp.Diff(`{"valid":true,"error_count":0,"warning_count":0,"diagnostics":[]}`, string(empty)); diff != "" {
		t.Errorf("empty json (-want +got):\n%s", diff)
	}
}
