package command

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/internal/redact"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
)

// Meta is what every command shares: redacting output streams, the logger,
// colour and the environment.
type Meta struct {
	// Stdin is the process's standard input.
	Stdin io.Reader
	// Stdout and Stderr redact every sensitive value the Redactor knows.
	Stdout io.Writer
	Stderr io.Writer
	// Redactor holds the sensitive values of the loaded configuration.
	Redactor *redact.Redactor
	// Getenv looks up an environment variable.
	Getenv func(string) (string, bool)
	// Color allows ANSI colour in human output.
	Color bool
	// StdoutIsTerminal says that stdout is a terminal (Streams.StdoutIsTerminal).
	StdoutIsTerminal bool

	log     hclog.Logger
	writers []*redact.Writer
}

func newMeta(s Streams) *Meta {
	if s.Getenv == nil {
		s.Getenv = func(string) (string, bool) { return "", false }
	}
	if s.Stdin == nil {
		s.Stdin = strings.NewReader("")
	}
	r := redact.New()
	stdout, stderr := r.Writer(s.Stdout), r.Writer(s.Stderr)
	m := &Meta{
		Stdin: s.Stdin, Stdout: stdout, Stderr: stderr,
		Redactor: r, Getenv: s.Getenv, Color: s.Color, StdoutIsTerminal: s.StdoutIsTerminal,
		writers: []*redact.Writer{stdout, stderr},
	}
	m.log = NewLogger(stderr, s.Getenv)
	return m
}

// flush releases whatever the redacting writers still hold.
func (m *Meta) flush() {
	for _, w := range m.writers {
		w.Flush()
	}
}

// Logger returns the logger named name ("validate", "provider.nginx.edge"). It
// writes to stderr through the redactor at the level set by NONSTOP_LOG.
func (m *Meta) Logger(name string) hclog.Logger {
	return m.log.Named(name)
}

// LoadConfig loads the configuration in dir with the variables of vars and the
// NONSTOP_VAR_ environment, and adds its sensitive values to the redactor before
// anything else can print them. The Config is nil only when nothing could be read
// or the command's flags are wrong (vars.Check).
func (m *Meta) LoadConfig(dir string, vars VarFlags) (*lang.Config, diags.Diagnostics) {
	log := m.Logger("config")
	if err := vars.Check(); err != nil {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Error, "Invalid command-line option", capitalizeFirst(err.Error())+".")}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Error, "Invalid configuration directory",
			fmt.Sprintf("%q is not a directory that nonstop can read: run the command in a directory of *.ns.hcl files or name one.", dir))}
	}
	log.Debug("loading configuration", "dir", dir, "vars", len(vars.Vars), "var_files", len(vars.VarFiles))
	var (
		cfg *lang.Config
		ds  diags.Diagnostics
	)
	if vars.Ref != "" {
		cfg, ds = lang.LoadGitRef(dir, vars.Ref, vars.LoadOptions(m.Getenv))
	} else {
		cfg, ds = lang.LoadDir(dir, vars.LoadOptions(m.Getenv))
	}
	if cfg != nil {
		m.Redactor.Add(cfg.SensitiveValues()...)
		log.Debug("configuration loaded", "files", len(cfg.Sources), "services", len(cfg.ServiceNames),
			"providers", len(cfg.Providers), "hash", cfg.Hash)
	}
	log.Debug("configuration diagnostics", "errors", len(ds.Errs()), "total", len(ds))
	return cfg, ds
}

// Sources returns the file contents for rendering diagnostics: cfg.Sources when
// the loader filled them, else the *.ns.hcl files of dir read from disk (those
// that are regular files within lang.MaxSourceSize).
func Sources(cfg *lang.Config, dir string) map[string][]byte {
	if cfg != nil && len(cfg.Sources) > 0 {
		return cfg.Sources
	}
	out := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.ns.hcl"))
	for _, f := range files {
		if b, err := lang.ReadSourceFile(f); err == nil {
			out[f] = b
		}
	}
	return out
}

// ShowDiagnostics writes ds to stderr in the human format.
func (m *Meta) ShowDiagnostics(ds diags.Diagnostics, sources map[string][]byte) {
	if len(ds) == 0 {
		return
	}
	diags.RenderHuman(m.Stderr, ds, sources, m.Color)
	fmt.Fprintln(m.Stderr)
}

// PrintJSON writes v to stdout as indented JSON followed by a newline.
func (m *Meta) PrintJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = m.Stdout.Write(append(b, '\n'))
	return err
}

// colorize wraps s in the ANSI code when colour is on.
func (m *Meta) colorize(code, s string) string {
	if !m.Color {
		return s
	}
	return code + s + "\x1b[0m"
}

// capitalizeFirst upper-cases the first letter of an error string made a sentence.
func capitalizeFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
