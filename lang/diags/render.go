package diags

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// wrapWidth is the column at which RenderHuman wraps a diagnostic's detail.
const wrapWidth = 78

// maxSnippetLines bounds how many source lines RenderHuman shows for one subject.
const maxSnippetLines = 5

// MaxShown is how many diagnostics RenderHuman and JSON show; the others are
// only counted ("and 12 more errors not shown"), so that no input can flood the
// terminal.
const MaxShown = 50

// maxSnippetWidth bounds, in bytes, how much of one source line a snippet
// shows: a longer line is cut to a window around the subject.
const maxSnippetWidth = 160

// maxDetailSize bounds, in bytes, a diagnostic's summary and detail as shown.
const maxDetailSize = 2048

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiUnder  = "\x1b[4m"
)

// RenderHuman writes ds in Terraform's style: a severity and summary line, the
// source lines of the subject with line numbers and the subject underlined with
// carets, then the detail wrapped at 78 columns. sources maps filenames (as they
// appear in the ranges) to file contents; a missing file only loses its snippet.
// With color, the heading and the subject are highlighted with ANSI escapes.
//
// Only the first MaxShown diagnostics are written, followed by a count of the
// others; a long source line is cut to a window around the subject, and a
// summary or detail to its first 2 KiB.
func RenderHuman(w io.Writer, ds Diagnostics, sources map[string][]byte, color bool) {
	shown, rest := split(ds)
	for i, d := range shown {
		if i > 0 {
			fmt.Fprintln(w)
		}
		renderOne(w, d, sources, color)
	}
	if len(rest) > 0 {
		fmt.Fprintf(w, "\n... and %s not shown: fix the ones above first.\n", countText(rest))
	}
}

// split returns the diagnostics to show and the ones to only count.
func split(ds Diagnostics) (shown, rest Diagnostics) {
	if len(ds) <= MaxShown {
		return ds, nil
	}
	return ds[:MaxShown], ds[MaxShown:]
}

// countText says how many errors and warnings ds holds: "3 more errors and 1
// more warning".
func countText(ds Diagnostics) string {
	errs := len(ds.Errs())
	warns := len(ds) - errs
	var parts []string
	if errs > 0 {
		parts = append(parts, plural(errs, "more error"))
	}
	if warns > 0 {
		parts = append(parts, plural(warns, "more warning"))
	}
	return strings.Join(parts, " and ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// truncate cuts s to at most max bytes, then back to its last space if one lies
// in the final quarter (so that a value, and a secret the redactor must see
// whole, is rarely cut in two), and says how much was left out.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexAny(s[:cut], " \n"); sp >= max*3/4 {
		cut = sp
	}
	return fmt.Sprintf("%s ... (%d more bytes)", s[:cut], len(s)-cut)
}

func renderOne(w io.Writer, d Diagnostic, sources map[string][]byte, color bool) {
	label, paint := "Error", ansiRed
	if d.Severity == Warning {
		label, paint = "Warning", ansiYellow
	}
	summary := truncate(d.Summary, maxDetailSize)
	if color {
		fmt.Fprintf(w, "%s%s%s: %s%s\n", ansiBold, paint, label, summary, ansiReset)
	} else {
		fmt.Fprintf(w, "%s: %s\n", label, summary)
	}
	if d.Subject != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  on %s line %d:\n", d.Subject.Filename, d.Subject.Start.Line)
		if src, ok := sources[d.Subject.Filename]; ok {
			writeSnippet(w, src, *d.Subject, color)
		}
	}
	if d.Detail != "" {
		fmt.Fprintln(w)
		for _, line := range Wrap(truncate(d.Detail, maxDetailSize), wrapWidth) {
			fmt.Fprintln(w, line)
		}
	}
}

// writeSnippet prints the lines of rng with a line-number gutter and a caret line
// under the part of each line that rng covers.
func writeSnippet(w io.Writer, src []byte, rng hcl.Range, color bool) {
	lines := bytes.Split(src, []byte("\n"))
	first, last := rng.Start.Line, rng.End.Line
	if last < first {
		last = first
	}
	if first < 1 || first > len(lines) {
		return
	}
	if last > len(lines) {
		last = len(lines)
	}
	truncated := false
	if last-first+1 > maxSnippetLines {
		last, truncated = first+maxSnippetLines-1, true
	}
	gutter := len(fmt.Sprint(last))
	lineStart := lineOffsets(lines)
	for n := first; n <= last; n++ {
		text := strings.TrimRight(string(lines[n-1]), "\r")
		from, to := 0, len(text)
		if n == rng.Start.Line {
			from = clamp(rng.Start.Byte-lineStart[n-1], 0, len(text))
		}
		if n == rng.End.Line {
			to = clamp(rng.End.Byte-lineStart[n-1], from, len(text))
		}
		text, from, to = window(text, from, to)
		if color && to > from {
			fmt.Fprintf(w, "  %*d: %s%s%s%s\n", gutter, n, text[:from], ansiUnder, text[from:to], ansiReset+text[to:])
		} else {
			fmt.Fprintf(w, "  %*d: %s\n", gutter, n, text)
		}
		if to > from || (n == rng.Start.Line && n == rng.End.Line) {
			fmt.Fprintf(w, "  %*s  %s%s\n", gutter, "", indentLike(text[:from]), carets(text[from:to]))
		}
	}
	if truncated {
		fmt.Fprintf(w, "  %*s  (%d more lines)\n", gutter, "", rng.End.Line-last)
	}
}

// window cuts a line longer than maxSnippetWidth to a window that starts a
// little before the subject [from, to), marking each cut with "...", and
// returns the window with the subject's offsets in it. Cuts fall on a space
// when one is near, and never inside a UTF-8 character.
func window(text string, from, to int) (string, int, int) {
	if len(text) <= maxSnippetWidth {
		return text, from, to
	}
	const lead, slack = 40, 24
	start := max(0, from-lead)
	if start > 0 {
		if sp := strings.IndexByte(text[start:min(start+slack, from)], ' '); sp >= 0 {
			start += sp + 1
		}
		for start < from && !utf8.RuneStart(text[start]) {
			start++
		}
	}
	end := min(len(text), start+maxSnippetWidth)
	if end < len(text) {
		if sp := strings.LastIndexByte(text[max(start, end-slack):end], ' '); sp >= 0 && max(start, end-slack)+sp > from {
			end = max(start, end-slack) + sp
		}
		for end > start && !utf8.RuneStart(text[end]) {
			end--
		}
	}
	out, shift := text[start:end], start
	if start > 0 {
		out, shift = "..."+out, start-3
	}
	if end < len(text) {
		out += "..."
	}
	from = clamp(from-shift, 0, len(out))
	to = clamp(to-shift, from, len(out))
	if end < len(text) {
		to = min(to, len(out)-3)
	}
	return out, from, max(from, to)
}

// lineOffsets returns the byte offset at which each line starts.
func lineOffsets(lines [][]byte) []int {
	out := make([]int, len(lines))
	off := 0
	for i, l := range lines {
		out[i] = off
		off += len(l) + 1
	}
	return out
}

// indentLike returns whitespace as wide as prefix, keeping its tabs so the carets
// line up under the subject whatever the terminal's tab width.
func indentLike(prefix string) string {
	var b strings.Builder
	for _, r := range prefix {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// carets returns one caret per character of s, at least one.
func carets(s string) string {
	n := utf8.RuneCountInString(s)
	if n < 1 {
		n = 1
	}
	return strings.Repeat("^", n)
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Wrap breaks text into lines of at most width characters at spaces. Existing
// line breaks are kept, and lines that start with a space or a tab (code,
// lists) are left as they are. A word longer than width gets a line of its own.
func Wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		if para == "" || para[0] == ' ' || para[0] == '\t' {
			out = append(out, para)
			continue
		}
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
				line += " " + word
			default:
				out = append(out, line)
				line = word
			}
		}
		out = append(out, line)
	}
	return out
}

// JSONReport is the machine-readable form of a list of diagnostics, as printed by
// `nonstop validate -json`.
type JSONReport struct {
	Valid        bool             `json:"valid"`
	ErrorCount   int              `json:"error_count"`
	WarningCount int              `json:"warning_count"`
	Diagnostics  []JSONDiagnostic `json:"diagnostics"`
	// NotShown counts the diagnostics after the first MaxShown, which are left
	// out of Diagnostics (error_count and warning_count count them).
	NotShown int `json:"not_shown,omitempty"`
}

// JSONDiagnostic is one diagnostic in a JSONReport.
type JSONDiagnostic struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail"`
	Range    *JSONRange `json:"range,omitempty"`
}

// JSONRange is a source range; lines and columns count from 1, bytes from 0.
type JSONRange struct {
	Filename string  `json:"filename"`
	Start    JSONPos `json:"start"`
	End      JSONPos `json:"end"`
}

// JSONPos is a position in a source file.
type JSONPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// JSON converts ds into its machine-readable form. Sourceless diagnostics have no
// range; Diagnostics is an empty list, never null, when ds is empty. Like
// RenderHuman it holds the first MaxShown diagnostics, each summary and detail
// cut to 2 KiB, and counts the rest in NotShown.
func JSON(ds Diagnostics) JSONReport {
	shown, rest := split(ds)
	rep := JSONReport{Diagnostics: make([]JSONDiagnostic, 0, len(shown)), NotShown: len(rest)}
	rep.ErrorCount = len(ds.Errs())
	rep.WarningCount = len(ds) - rep.ErrorCount
	for _, d := range shown {
		jd := JSONDiagnostic{Severity: d.Severity.String(), Summary: truncate(d.Summary, maxDetailSize), Detail: truncate(d.Detail, maxDetailSize)}
		if d.Subject != nil {
			jd.Range = &JSONRange{
				Filename: d.Subject.Filename,
				Start:    JSONPos{Line: d.Subject.Start.Line, Column: d.Subject.Start.Column, Byte: d.Subject.Start.Byte},
				End:      JSONPos{Line: d.Subject.End.Line, Column: d.Subject.End.Column, Byte: d.Subject.End.Byte},
			}
		}
		rep.Diagnostics = append(rep.Diagnostics, jd)
	}
	rep.Valid = rep.ErrorCount == 0
	return rep
}
