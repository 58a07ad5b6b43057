package command

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// runTerminal runs nonstop in-process like run, with stdout taken for a terminal
// or not, and colour off (the progress view must not depend on colour).
func runTerminal(t *testing.T, env map[string]string, terminal bool, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, Streams{
		Stdin:            strings.NewReader(""),
		Stdout:           &stdout,
		Stderr:           &stderr,
		Getenv:           func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		StdoutIsTerminal: terminal,
	})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// timestampedLine is a line of the line view: "2025-01-02T15:04:05Z info  ...".
var timestampedLine = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (info|warn|error) `)

// TestApplyProgressView checks which progress view apply picks: the live view
// (redrawn in place with ANSI escapes, a bar per service) only when stdout is a
// terminal that can redraw, one timestamped line per event otherwise, and JSON
// lines with -json whatever stdout is.
func TestApplyProgressView(t *testing.T) {
	tests := map[string]struct {
		terminal bool
		term     string
		json     bool
		want     string // tty, lines or json
	}{
		"terminal":              {terminal: true, term: "xterm-256color", want: "tty"},
		"terminal without TERM": {terminal: true, want: "tty"},
		"dumb terminal":         {terminal: true, term: "dumb", want: "lines"},
		"not a terminal":        {term: "xterm-256color", want: "lines"},
		"json on a terminal":    {terminal: true, term: "xterm", json: true, want: "json"},
		"json not a terminal":   {json: true, want: "json"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := fakeFleet(t)
			env := map[string]string{"NONSTOP_LOG": "error"}
			if tc.term != "" {
				env["TERM"] = tc.term
			}
			args := []string{"apply", "-auto-approve"}
			if tc.json {
				args = append(args, "-json")
			}
			res := runTerminal(t, env, tc.terminal, append(args, dir)...)
			if res.code != 0 {
				t.Fatalf("exit code %d, want 0\n%s", res.code, res)
			}
			escapes := strings.Contains(res.stdout, "\x1b[2K")
			bar := strings.Contains(res.stdout, "shop  [####################]   1/1")
			lines := timestampedLine.FindAllString(res.stdout, -1)
			switch tc.want {
			case "tty":
				if !escapes || !bar || len(lines) > 0 {
					t.Errorf("want the live view (escapes %t, full bar %t, %d timestamped lines):\n%q", escapes, bar, len(lines), res.stdout)
				}
			case "lines":
				// At least the apply's start and end and the step's start and end.
				if escapes || bar || len(lines) < 4 {
					t.Errorf("want timestamped lines (escapes %t, bar %t, %d timestamped lines):\n%q", escapes, bar, len(lines), res.stdout)
				}
			case "json":
				if escapes || len(lines) > 0 {
					t.Errorf("want JSON lines only (escapes %t, %d timestamped lines):\n%q", escapes, len(lines), res.stdout)
				}
				types := map[string]bool{}
				for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
					var ev map[string]any
					if err := json.Unmarshal([]byte(l), &ev); err != nil {
						t.Fatalf("stdout line is not JSON: %v\n%q", err, l)
					}
					if s, ok := ev["type"].(string); ok {
						types[s] = true
					}
				}
				if len(types) < 2 {
					t.Errorf("JSON progress has event types %v, want several:\n%s", types, res.stdout)
				}
			}
		})
	}
}
