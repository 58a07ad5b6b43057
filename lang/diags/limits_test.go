package diags

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// TestRenderHumanShowsAtMostMaxShown checks that thousands of diagnostics print
// the first MaxShown and a count of the rest.
func TestRenderHumanShowsAtMostMaxShown(t *testing.T) {
	var ds Diagnostics
	for i := range 5000 {
		ds = append(ds, Sourceless(Error, fmt.Sprintf("Problem %d", i), "Detail."))
	}
	ds = append(ds, Sourceless(Warning, "Last", ""))
	var buf bytes.Buffer
	RenderHuman(&buf, ds, nil, false)
	out := buf.String()
	if got := strings.Count(out, "Error: "); got != MaxShown {
		t.Errorf("%d errors shown, want %d", got, MaxShown)
	}
	if !strings.Contains(out, "Problem 49\n") || strings.Contains(out, "Problem 50\n") {
		t.Errorf("not the first %d shown:\n%s", MaxShown, out)
	}
	want := fmt.Sprintf("\n... and %d more errors and 1 more warning not shown: fix the ones above first.\n", 5000-MaxShown)
	if !strings.HasSuffix(out, want) {
		t.Errorf("output ends %q, want %q", out[max(0, len(out)-120):], want)
	}

	rep := JSON(ds)
	if len(rep.Diagnostics) != MaxShown || rep.NotShown != len(ds)-MaxShown || rep.ErrorCount != 5000 || rep.WarningCount != 1 {
		t.Errorf("JSON: %d shown, not_shown %d, %d errors, %d warnings", len(rep.Diagnostics), rep.NotShown, rep.ErrorCount, rep.WarningCount)
	}
}

// TestRenderHumanLongLine checks that a subject on a line of megabytes shows a
// window of the line around it, carets aligned, and a long detail is cut.
func TestRenderHumanLongLine(t *testing.T) {
	src := "x = " + strings.Repeat("[", 1<<20) + " bad é " + strings.Repeat("]", 1<<20) + "\n"
	at := strings.Index(src, "bad")
	pos := func(b int) hcl.Pos { return hcl.Pos{Line: 1, Column: b + 1, Byte: b} }
	d := Errorf(&hcl.Range{Filename: "main.ns.hcl", Start: pos(at), End: pos(at + 3)}, "Bad", "%s",
		"Value "+strings.Repeat("v", 10000)+" is wrong.")
	var buf bytes.Buffer
	RenderHuman(&buf, Diagnostics{d}, map[string][]byte{"main.ns.hcl": []byte(src)}, false)
	out := buf.String()
	if len(out) > 4*maxSnippetWidth+maxDetailSize+200 {
		t.Fatalf("%d bytes printed for one diagnostic", len(out))
	}
	lines := strings.Split(out, "\n")
	snippet, carets := lines[3], lines[4]
	col := strings.Index(snippet, "bad")
	if col < 0 || !strings.HasPrefix(snippet, "  1: ...") || !strings.HasSuffix(snippet, "...") {
		t.Fatalf("snippet line %q is not a window around the subject", snippet)
	}
	if got := strings.Index(carets, "^^^"); got != col || strings.Count(carets, "^") != 3 {
		t.Errorf("carets at %d, subject at %d:\n%s\n%s", got, col, snippet, carets)
	}
	if !strings.Contains(out, "... (") || strings.Contains(out, strings.Repeat("v", 2100)) {
		t.Errorf("detail not cut:\n%s", out[:min(len(out), 400)])
	}
}

// TestWindow checks the snippet window on short and long lines, multibyte
// characters included.
func TestWindow(t *testing.T) {
	long := strings.Repeat("ü", 200) // 400 bytes
	tests := map[string]struct {
		text     string
		from, to int
	}{
		"short line untouched": {"abc", 1, 2},
		"subject at start":     {long, 0, 2},
		"subject in middle":    {long, 200, 204},
		"subject at end":       {long, 398, 400},
		"subject too wide":     {long, 2, 400},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, from, to := window(tc.text, tc.from, tc.to)
			if len(out) > maxSnippetWidth+6 {
				t.Errorf("window of %d bytes", len(out))
			}
			if to <= from || !strings.HasPrefix(tc.text[tc.from:tc.to], out[from:to]) {
				t.Errorf("window %q [%d, %d) does not show the start of the subject %q", out, from, to, tc.text[tc.from:tc.to])
			}
			if !utf8.ValidString(out) {
				t.Errorf("window %q cuts a character", out)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"short":               {"short", "short"},
		"cut at a space":      {"aaaa bbbb cccc", "aaaa bbbb ... (5 more bytes)"},
		"cut in a word":       {"aaaaaaaaaaaaaaa", "aaaaaaaaaaaa ... (3 more bytes)"},
		"never inside a rune": {"aéééééé", "aééééé ... (2 more bytes)"},
	}
	for name, tc := range tests {
		if diff := cmp.Diff(tc.want, truncate(tc.in, 12)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if _, err := json.Marshal(JSON(Diagnostics{Sourceless(Error, strings.Repeat("s", 5000), strings.Repeat("d ", 5000))})); err != nil {
		t.Fatal(err)
	}
}
