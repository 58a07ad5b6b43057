package command

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agext/levenshtein"
	"golang.org/x/term"
)

// Command is one nonstop subcommand.
type Command struct {
	// Name is the word that selects the command: "validate".
	Name string
	// Synopsis is a one-line description for `nonstop -help`.
	Synopsis string
	// Help is the text of `nonstop NAME -help` before the list of flags: a usage
	// line, a description and the exit codes.
	Help string
	// Run runs the command with the arguments after its name and returns the exit code.
	Run func(m *Meta, args []string) int
}

// Streams is what one run of nonstop reads, writes and sees of its environment.
type Streams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv looks up an environment variable.
	Getenv func(string) (string, bool)
	// Color allows ANSI colour in human output (commands also honour -no-color).
	Color bool
	// StdoutIsTerminal says that Stdout is a terminal: apply then draws its live
	// progress view (unless TERM is "dumb") instead of one line per event.
	StdoutIsTerminal bool
}

// OSStreams returns the process's standard streams and environment. Colour is on
// when stdout is a terminal, TERM is not "dumb" and NO_COLOR is unset.
func OSStreams() Streams {
	_, noColor := os.LookupEnv("NO_COLOR")
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	color := tty && os.Getenv("TERM") != "dumb" && !noColor
	return Streams{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.LookupEnv, Color: color,
		StdoutIsTerminal: tty}
}

// Main runs nonstop with args (without the program name) and returns the exit code.
//
// Global options come before the command: -chdir=DIR runs the command in DIR,
// as Terraform's -chdir does (the process changes its working directory, so
// every path of the command, a plan file or a -var-file included, is read
// from DIR; Main changes it back before it returns). A command run with -json
// (or -format json) that fails (exit 1) without having written its failure as
// JSON writes its errors on stdout as JSON lines as well (jsonErrors).
func Main(args []string, s Streams) int {
	args, chdir, err := globalOptions(args)
	if err != nil {
		fmt.Fprintf(s.Stderr, "Error: %v.\n", err)
		return 1
	}
	var jerr *jsonErrors
	if len(args) > 0 && wantsJSON(args[1:]) {
		jerr = watchForJSONErrors(&s)
	}
	if chdir != "" {
		back, err := changeDir(chdir)
		if err != nil {
			fmt.Fprintf(s.Stderr, "Error: %v.\n", err)
			if jerr != nil {
				jerr.write(args[0])
			}
			return 1
		}
		defer back()
	}
	m := newMeta(s)
	defer m.flush()
	code := runCommand(m, args)
	if jerr != nil && code == 1 {
		m.flush() // what the redacting writers hold first
		jerr.write(args[0])
	}
	return code
}

// runCommand runs the command args names with the arguments after it.
func runCommand(m *Meta, args []string) int {
	if len(args) == 0 {
		m.usage(m.Stderr)
		return 1
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		m.usage(m.Stdout)
		return 0
	case "help":
		if len(rest) == 0 {
			m.usage(m.Stdout)
			return 0
		}
		if c := lookup(rest[0]); c != nil {
			return c.Run(m, []string{"-help"})
		}
		name = rest[0]
	case "-v", "-version", "--version":
		name, rest = "version", nil
	}
	c := lookup(name)
	if c == nil {
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(m.Stderr, "Error: unknown global option %q: the global options are -chdir=DIR, -help and -version; a command's options go after the command.\n\n", name)
		} else {
			fmt.Fprintf(m.Stderr, "Error: unknown command %q.%s\n\n", name, suggest(name))
		}
		m.usage(m.Stderr)
		return 1
	}
	m.log.Debug("running command", "command", c.Name, "args", len(rest))
	return c.Run(m, rest)
}

// globalOptions takes the global options off the front of args: -chdir=DIR
// (or -chdir DIR). It returns the arguments from the command on.
func globalOptions(args []string) (rest []string, chdir string, err error) {
	for len(args) > 0 {
		name, value, hasValue := strings.Cut(args[0], "=")
		if name != "-chdir" && name != "--chdir" {
			break
		}
		if !hasValue {
			if len(args) < 2 {
				return nil, "", fmt.Errorf("-chdir needs a directory: nonstop -chdir=DIR COMMAND")
			}
			value, args = args[1], args[1:]
		}
		if value == "" {
			return nil, "", fmt.Errorf("-chdir needs a directory: nonstop -chdir=DIR COMMAND")
		}
		chdir, args = value, args[1:]
	}
	return args, chdir, nil
}

// changeDir makes dir the working directory and returns the function that
// goes back.
func changeDir(dir string) (back func(), err error) {
	prev, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("-chdir %s: cannot tell the current directory: %v", dir, err)
	}
	if err := os.Chdir(dir); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("-chdir %s: cannot change to it: %v", dir, err)
	}
	return func() { _ = os.Chdir(prev) }, nil
}

func lookup(name string) *Command {
	for _, c := range table {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// suggest returns " Did you mean \"x\"?" for a near-miss command name, or "".
func suggest(name string) string {
	best, bestDist := "", 3
	for _, c := range table {
		if d := levenshtein.Distance(name, c.Name, nil); d < bestDist {
			best, bestDist = c.Name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// usage prints the top-level help.
func (m *Meta) usage(w io.Writer) {
	fmt.Fprint(w, `Usage: nonstop [-chdir=DIR] [-help] [-version] <command> [args]

nonstop releases services behind load balancers and a Nacos registry without
downtime: it diffs the configuration (*.ns.hcl) against live state into an
ordered, reviewable plan and applies it step by step.

Commands:
`)
	width := 0
	for _, c := range table {
		width = max(width, len(c.Name))
	}
	names := make([]string, 0, len(table))
	for _, c := range table {
		names = append(names, fmt.Sprintf("  %-*s  %s", width, c.Name, c.Synopsis))
	}
	fmt.Fprintln(w, strings.Join(names, "\n"))
	fmt.Fprint(w, `
Global options (before the command):
  -chdir=DIR  run the command in DIR, as if started there: its configuration,
              state and every path given to it (a plan file, a -var-file)
  -help       this text; "nonstop <command> -help" for a command's flags
  -version    the version, as "nonstop version"

Run "nonstop <command> -help" for a command's flags and exit codes. With
-json, a command that fails writes its errors on stdout as JSON lines
({"@level":"error","type":"diagnostic","diagnostic":{...}}) unless it wrote
its failure as JSON already.

Environment:
  NONSTOP_LOG         log level on stderr: trace, debug, info, warn (default), error
  NONSTOP_VAR_<name>  sets variable <name> (-var and -var-file take precedence)
  NO_COLOR            disables coloured output
`)
}

// FlagSet returns the FlagSet of command name whose -help prints help (the
// command's Help) and every flag with its default. Every command gets -no-color.
func (m *Meta) FlagSet(name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), strings.TrimLeft(help, "\n"))
		fmt.Fprintln(fs.Output(), "\nOptions:")
		fs.PrintDefaults()
	}
	fs.BoolFunc("no-color", "disable ANSI colour in the output", func(string) error {
		m.Color = false
		return nil
	})
	return fs
}

// Parse parses args with fs. When done is true the command must return code at
// once: 0 after -help (the help goes to stdout), 1 after a flag error (reported
// on stderr with the usage).
func (m *Meta) Parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse(args)
	fs.SetOutput(m.Stderr)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		m.Stdout.Write(out.Bytes())
		return 0, true
	default:
		m.Stderr.Write(out.Bytes())
		return 1, true
	}
}

// wantsJSON reports whether a command's arguments ask for JSON output: -json
// (or -json=true), or -format json.
func wantsJSON(args []string) bool {
	for i, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "json":
			if b, err := strconv.ParseBool(value); !hasValue || (err == nil && b) {
				return true
			}
		case "format":
			if (hasValue && value == "json") || (!hasValue && i+1 < len(args) && args[i+1] == "json") {
				return true
			}
		}
	}
	return false
}

// maxJSONErrorInput bounds the stderr text jsonErrors keeps to read errors from.
const maxJSONErrorInput = 1 << 20

// jsonErrors watches a command run with -json: what it writes on stderr (its
// errors as people read them, already redacted) and whether it wrote on
// stdout, so that a failure it did not write as JSON is written as JSON lines.
type jsonErrors struct {
	mu     sync.Mutex
	stdout io.Writer
	stderr bytes.Buffer
	// wrote: the command wrote on stdout; lines: in JSON lines ("@level");
	// errorLine: one of them at level error.
	wrote, lines, errorLine bool
}

// watchForJSONErrors wraps the streams of s to watch them.
func watchForJSONErrors(s *Streams) *jsonErrors {
	j := &jsonErrors{stdout: s.Stdout}
	s.Stdout = jsonOutWatch{j: j, w: s.Stdout}
	s.Stderr = jsonErrTee{j: j, w: s.Stderr}
	return j
}

type jsonOutWatch struct {
	j *jsonErrors
	w io.Writer
}

func (o jsonOutWatch) Write(p []byte) (int, error) {
	o.j.mu.Lock()
	if len(bytes.TrimSpace(p)) > 0 {
		o.j.wrote = true
	}
	o.j.lines = o.j.lines || bytes.Contains(p, []byte(`"@level":`))
	o.j.errorLine = o.j.errorLine || bytes.Contains(p, []byte(`"@level":"error"`))
	o.j.mu.Unlock()
	return o.w.Write(p)
}

type jsonErrTee struct {
	j *jsonErrors
	w io.Writer
}

func (e jsonErrTee) Write(p []byte) (int, error) {
	e.j.mu.Lock()
	if room := maxJSONErrorInput - e.j.stderr.Len(); room > 0 {
		e.j.stderr.Write(p[:min(len(p), room)])
	}
	e.j.mu.Unlock()
	return e.w.Write(p)
}

// jsonDiagnosticLine is one error as a JSON line, in the shape of apply's
// progress lines and of Terraform's "diagnostic" messages.
type jsonDiagnosticLine struct {
	Level      string         `json:"@level"`
	Message    string         `json:"@message"`
	Module     string         `json:"@module"`
	Timestamp  string         `json:"@timestamp"`
	Type       string         `json:"type"`
	Diagnostic jsonDiagnostic `json:"diagnostic"`
}

type jsonDiagnostic struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail"`
	Range    *jsonRange `json:"range,omitempty"`
}

type jsonRange struct {
	Filename string   `json:"filename"`
	Start    jsonLine `json:"start"`
}

type jsonLine struct {
	Line int `json:"line"`
}

// write writes the errors of command on stdout as JSON lines, unless the
// command wrote its failure as JSON itself: a document on stdout (plan's and
// drift's {"diagnostics"}, validate's report), or a line at level error in a
// stream of JSON lines (apply -json).
func (j *jsonErrors) write(command string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if (j.wrote && !j.lines) || j.errorLine {
		return
	}
	now := time.Now().Format("2006-01-02T15:04:05.000000Z07:00")
	for _, d := range parseErrorText(j.stderr.String()) {
		level := d.Severity
		if level == "warning" {
			level = "warn"
		}
		label := map[string]string{"error": "Error: ", "warning": "Warning: "}[d.Severity]
		line, err := json.Marshal(jsonDiagnosticLine{Level: level, Message: label + d.Summary, Module: "nonstop." + command,
			Timestamp: now, Type: "diagnostic", Diagnostic: d})
		if err == nil {
			j.stdout.Write(append(line, '\n'))
		}
	}
}

var (
	ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")
	// logLine is a line of the logger (NONSTOP_LOG): not an error of the command.
	logLine     = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\S+ \[(TRACE|DEBUG|INFO|WARN|ERROR)\]`)
	subjectLine = regexp.MustCompile(`^  on (.+) line (\d+)(, in .*)?:$`)
)

// maxJSONErrors bounds the errors written as JSON lines.
const maxJSONErrors = 50

// parseErrorText reads the errors and warnings a command wrote for people on
// stderr: blocks that start with "Error: SUMMARY" (or "Error acquiring ...")
// or "Warning: SUMMARY", then the detail; a diagnostic's "on FILE line N:"
// and its source lines give its range; a usage text after an error is left
// out. Stderr without such a block (a flag the command does not know) gives
// one error, its first line.
func parseErrorText(text string) []jsonDiagnostic {
	var out []jsonDiagnostic
	var detail []string
	inSnippet, inUsage := false, false
	open := false // a block is being read
	finish := func() {
		if open {
			out[len(out)-1].Detail = unwrap(detail)
		}
		detail, inSnippet, inUsage, open = nil, false, false, false
	}
	var first string
	for _, line := range strings.Split(ansiEscape.ReplaceAllString(text, ""), "\n") {
		line = strings.TrimRight(line, "\r ")
		if logLine.MatchString(line) {
			continue
		}
		if first == "" && strings.TrimSpace(line) != "" {
			first = strings.TrimSpace(line)
		}
		severity, summary := "", ""
		switch {
		case strings.HasPrefix(line, "Error message:"):
		case strings.HasPrefix(line, "Error: "):
			severity, summary = "error", strings.TrimPrefix(line, "Error: ")
		case strings.HasPrefix(line, "Error "):
			severity, summary = "error", line
		case strings.HasPrefix(line, "Warning: "):
			severity, summary = "warning", strings.TrimPrefix(line, "Warning: ")
		}
		if severity != "" {
			finish()
			if len(out) == maxJSONErrors {
				break
			}
			out = append(out, jsonDiagnostic{Severity: severity, Summary: strings.TrimSpace(summary)})
			open = true
			continue
		}
		if !open || inUsage {
			continue
		}
		switch m := subjectLine.FindStringSubmatch(line); {
		case strings.HasPrefix(line, "Usage: "):
			inUsage = true
		case m != nil && out[len(out)-1].Range == nil && len(strings.TrimSpace(strings.Join(detail, ""))) == 0:
			n, _ := strconv.Atoi(m[2])
			out[len(out)-1].Range = &jsonRange{Filename: m[1], Start: jsonLine{Line: n}}
			inSnippet = true
		case inSnippet && strings.TrimSpace(line) == "":
			inSnippet = false
		case !inSnippet:
			detail = append(detail, line)
		}
	}
	finish()
	if len(out) == 0 && first != "" {
		out = append(out, jsonDiagnostic{Severity: "error", Summary: first})
	}
	return out
}

// unwrap joins the lines of a detail that the human output wrapped: a line
// goes on the one before unless either is blank or it is indented or a list
// item, which keep their own lines.
func unwrap(lines []string) string {
	var b strings.Builder
	prev := ""
	for _, l := range lines {
		switch {
		case b.Len() == 0:
		case strings.TrimSpace(prev) != "" && strings.TrimSpace(l) != "" &&
			!strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "- "):
			b.WriteByte(' ')
		default:
			b.WriteByte('\n')
		}
		b.WriteString(l)
		prev = l
	}
	return strings.TrimSpace(b.String())
}
