package command

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
)

const fmtHelp = `
Usage: nonstop fmt [options] [DIR|FILE...]

  Rewrites configuration files in the canonical HCL layout (alignment of "=",
  indentation, spacing). Without arguments it formats the *.ns.hcl files of the
  current directory; a directory argument formats its *.ns.hcl files (and those
  of its subdirectories with -recursive, skipping hidden ones); a file argument
  is formatted whatever its name. "-" formats standard input to standard output.

  The names of files that changed (or would change, with -check) are printed.

Exit codes:
  0  every file was already formatted, or was rewritten
  1  a file has a syntax error or cannot be read or written
  3  with -check: at least one file is not formatted
`

var fmtCommand = &Command{
	Name:     "fmt",
	Synopsis: "Rewrite *.ns.hcl files in the canonical format",
	Help:     fmtHelp,
	Run:      runFmt,
}

// fmtOptions are the flags of nonstop fmt.
type fmtOptions struct {
	check, diff, write, list, recursive bool
}

func runFmt(m *Meta, args []string) int {
	fset := m.FlagSet("fmt", fmtHelp)
	var o fmtOptions
	fset.BoolVar(&o.check, "check", false, "change nothing; exit 3 when a file is not formatted")
	fset.BoolVar(&o.diff, "diff", false, "print a unified diff of each change")
	fset.BoolVar(&o.write, "write", true, "write the result back to the file (false with -check)")
	fset.BoolVar(&o.list, "list", true, "print the names of files whose formatting differs")
	fset.BoolVar(&o.recursive, "recursive", false, "also format the subdirectories of directory arguments")
	if code, done := m.Parse(fset, args); done {
		return code
	}
	if o.check {
		o.write = false
	}
	targets := fset.Args()
	if len(targets) == 0 {
		targets = []string{"."}
	}
	if len(targets) == 1 && targets[0] == "-" {
		return m.fmtStdin(o)
	}

	var ds diags.Diagnostics
	files, ds := fmtFiles(targets, o.recursive)
	changed := false
	for _, f := range files {
		c, fileDiags := m.fmtFile(f, o)
		changed = changed || c
		ds = ds.Append(fileDiags)
	}
	m.ShowDiagnostics(ds, readSources(files))
	switch {
	case ds.HasErrors():
		return 1
	case o.check && changed:
		return 3
	}
	return 0
}

// fmtFiles expands targets into the files to format.
func fmtFiles(targets []string, recursive bool) ([]string, diags.Diagnostics) {
	var files []string
	var ds diags.Diagnostics
	for _, t := range targets {
		fi, err := os.Stat(t)
		if err != nil {
			ds = ds.Append(diags.Sourceless(diags.Error, "Cannot read file", fmt.Sprintf("%v.", err)))
			continue
		}
		if !fi.IsDir() {
			files = append(files, t)
			continue
		}
		err = filepath.WalkDir(t, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != t && (!recursive || strings.HasPrefix(d.Name(), ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(d.Name(), ".ns.hcl") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			ds = ds.Append(diags.Sourceless(diags.Error, "Cannot read directory", fmt.Sprintf("%v.", err)))
		}
	}
	return files, ds
}

// fmtFile formats one file and reports whether its formatting differed.
func (m *Meta) fmtFile(path string, o fmtOptions) (bool, diags.Diagnostics) {
	src, err := lang.ReadSourceFile(path)
	if err != nil {
		return false, diags.Diagnostics{diags.Sourceless(diags.Error, "Cannot read file", fmt.Sprintf("%v.", err))}
	}
	out, ds := formatHCL(src, path)
	if ds.HasErrors() || bytes.Equal(src, out) {
		return false, ds
	}
	m.Logger("fmt").Debug("file needs formatting", "file", path)
	if o.list {
		fmt.Fprintln(m.Stdout, path)
	}
	if o.write {
		fi, err := os.Stat(path)
		if err == nil {
			err = os.WriteFile(path, out, fi.Mode().Perm())
		}
		if err != nil {
			return true, ds.Append(diags.Sourceless(diags.Error, "Cannot write file", fmt.Sprintf("%v.", err)))
		}
	}
	if o.diff {
		m.Stdout.Write(UnifiedDiff(path, string(src), string(out)))
	}
	return true, ds
}

// fmtStdin formats standard input to standard output.
func (m *Meta) fmtStdin(o fmtOptions) int {
	src, err := io.ReadAll(io.LimitReader(m.Stdin, lang.MaxSourceSize+1))
	if err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot read standard input: %v\n", err)
		return 1
	}
	if len(src) > lang.MaxSourceSize {
		fmt.Fprintf(m.Stderr, "Error: standard input holds more than %d bytes, the most nonstop reads as configuration.\n", lang.MaxSourceSize)
		return 1
	}
	out, ds := formatHCL(src, "<stdin>")
	if ds.HasErrors() {
		m.ShowDiagnostics(ds, map[string][]byte{"<stdin>": src})
		return 1
	}
	switch {
	case o.diff:
		m.Stdout.Write(UnifiedDiff("<stdin>", string(src), string(out)))
	case !o.check:
		m.Stdout.Write(out)
	}
	if o.check && !bytes.Equal(src, out) {
		return 3
	}
	return 0
}

// formatHCL returns src in canonical layout, or the syntax errors that stop it.
func formatHCL(src []byte, filename string) ([]byte, diags.Diagnostics) {
	// The HCL parser recurses once per nesting level: refuse a deep input first.
	if ds := lang.CheckNesting(src, filename); ds.HasErrors() {
		return nil, ds
	}
	_, hd := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	var ds diags.Diagnostics
	ds = ds.Append(hd)
	if ds.HasErrors() {
		return nil, ds
	}
	return hclwrite.Format(src), ds
}

// readSources reads files for diagnostic snippets, skipping unreadable ones.
func readSources(files []string) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		if b, err := lang.ReadSourceFile(f); err == nil {
			out[f] = b
		}
	}
	return out
}
