package command

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

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
func Main(args []string, s Streams) int {
	m := newMeta(s)
	defer m.flush()
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
		fmt.Fprintf(m.Stderr, "Error: unknown command %q.%s\n\n", name, suggest(name))
		m.usage(m.Stderr)
		return 1
	}
	m.log.Debug("running command", "command", c.Name, "args", len(rest))
	return c.Run(m, rest)
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
	fmt.Fprint(w, `Usage: nonstop [-help] [-version] <command> [args]

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
Run "nonstop <command> -help" for a command's flags and exit codes.

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
