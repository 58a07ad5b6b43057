package lang

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// FileSuffix is the suffix of configuration files.
const FileSuffix = ".ns.hcl"

// LoadOptions carries the inputs of a load that do not come from the files.
type LoadOptions struct {
	// Vars are raw "-var name=value" options in order; later ones win.
	Vars []string
	// VarFiles are -var-file paths (files of HCL attributes), in order.
	VarFiles []string
	// Getenv looks up environment variables for env() and NONSTOP_VAR_<name>;
	// nil means os.LookupEnv.
	Getenv func(string) (string, bool)
	// ReadFile reads a file for file(), given the path as written in the
	// configuration; nil means reading it from disk relative to the directory.
	// Loaders of a git ref set it to read from the ref.
	ReadFile func(string) ([]byte, error)
	// UnsetUnknown makes a variable that has no default and is not set unknown
	// instead of an error, as `nonstop validate` wants: checking a configuration
	// needs no secrets. What depends on such a variable is not checked further.
	UnsetUnknown bool
}

// LoadDir loads every *.ns.hcl file in dir. Each must be a regular file of at
// most MaxSourceSize bytes, and all together at most MaxConfigSize.
func LoadDir(dir string, opts LoadOptions) (*Config, diags.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Error, "Cannot read configuration directory", err.Error()+".")}
	}
	files := map[string][]byte{}
	var d diags.Diagnostics
	total := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), FileSuffix) {
			continue
		}
		b, err := ReadSourceFile(filepath.Join(dir, e.Name()))
		if err != nil {
			d = d.Append(readDiagnostic("configuration file", err))
			continue
		}
		files[e.Name()] = b
		if total += len(b); total > MaxConfigSize {
			return nil, diags.Diagnostics{configTooLarge(dir)}
		}
	}
	if d.HasErrors() {
		return nil, d
	}
	if len(files) == 0 {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Error, "No configuration files",
			fmt.Sprintf("The directory %s has no *%s files.", dir, FileSuffix))}
	}
	return LoadFiles(dir, files, opts)
}

// LoadFiles loads the given files (name relative to dir → contents) as one
// configuration of directory dir. It never panics, whatever the contents: a
// file over MaxSourceSize or nested more than MaxNesting levels deep is refused
// before it is parsed, and so are files over MaxConfigSize together.
//
// When the diagnostics hold errors the Config is partial: callers may read only
// its Sources (to render the diagnostics) and SensitiveValues (to redact them).
//
// Diagnostics name files by filepath.Join(dir, name), which is also how Sources
// is keyed; Hash covers the names as given, so it does not depend on where the
// directory lies.
func LoadFiles(dir string, files map[string][]byte, opts LoadOptions) (*Config, diags.Diagnostics) {
	l := newLoader(dir, opts)
	names := slices.Sorted(maps.Keys(files))
	total := 0
	for _, name := range names {
		total += len(files[name])
	}
	if total > MaxConfigSize {
		l.diags = l.diags.Append(configTooLarge(dir))
		return l.cfg, l.diags
	}
	l.cfg.Hash = hashFiles(names, files)

	var bodies []*hcl.BodyContent
	for _, name := range names {
		display := name
		if dir != "" && !filepath.IsAbs(name) {
			display = filepath.Join(dir, name)
		}
		if len(files[name]) > MaxSourceSize {
			l.diags = l.diags.Append(readDiagnostic("configuration file",
				&FileTooLargeError{Path: display, Size: int64(len(files[name])), Limit: MaxSourceSize}))
			continue
		}
		l.cfg.Sources[display] = files[name]
		if d := CheckNesting(files[name], display); d.HasErrors() {
			l.diags = l.diags.Append(d)
			continue
		}
		f, d := hclsyntax.ParseConfig(files[name], display, hcl.InitialPos)
		l.diags = l.diags.Append(d)
		if d.HasErrors() || f == nil {
			continue
		}
		content, d := f.Body.Content(rootSchema)
		l.diags = l.diags.Append(d)
		bodies = append(bodies, content)
	}
	if l.diags.HasErrors() && len(bodies) < len(names) {
		// Syntax errors: the rest would only report noise about half-parsed files.
		return l.cfg, l.diags
	}
	blocks := map[string][]*hcl.Block{}
	for _, c := range bodies {
		for _, b := range c.Blocks {
			blocks[b.Type] = append(blocks[b.Type], b)
		}
	}

	l.decodeVariables(blocks["variable"])
	l.decodeLocals(blocks["locals"])
	l.buildContext()
	l.decodeNonstop(blocks["nonstop"])
	l.decodeProviders(blocks["provider"])
	l.decodeServices(blocks["service"])
	l.checkDependencies()
	return l.cfg, l.diags
}

// hashFiles returns the hex SHA-256 over names (sorted) and contents.
func hashFiles(names []string, files map[string][]byte) string {
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n]))
		h.Write(files[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// loader holds the state of one load: the config being built, the diagnostics
// found so far and the evaluation context.
type loader struct {
	cfg   *Config
	opts  LoadOptions
	diags diags.Diagnostics

	getenv     func(string) (string, bool)
	funcs      map[string]function.Function
	varNames   map[string]bool
	localNames map[string]bool
	// ctx evaluates configuration-scope expressions: var, local and functions.
	ctx *hcl.EvalContext
	// dependsOn holds each service's depends_on elements, checked once all are decoded.
	dependsOn map[string][]serviceRef
	// addrOwners maps each instance address to the group and service that claimed it.
	addrOwners map[string]string
	// gatewayDocs maps each gateway routes document to the block that claimed it.
	gatewayDocs map[string]hcl.Range
}

// serviceRef is one depends_on element: the service named and where.
type serviceRef struct {
	name string
	rng  hcl.Range
}

func newLoader(dir string, opts LoadOptions) *loader {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	readFile := opts.ReadFile
	if readFile == nil {
		readFile = diskReader(dir)
	}
	return &loader{
		cfg: &Config{
			Dir:       dir,
			Sources:   map[string][]byte{},
			Variables: map[string]*Variable{},
			Locals:    map[string]cty.Value{},
			Providers: map[ProviderRef]*Provider{},
			Services:  map[string]*Service{},
		},
		opts:       opts,
		getenv:     getenv,
		funcs:      functions(getenv, readFile),
		varNames:   map[string]bool{},
		localNames: map[string]bool{},
		dependsOn:  map[string][]serviceRef{},
		addrOwners: map[string]string{},
	}
}

// errorf appends an error diagnostic about rng.
func (l *loader) errorf(rng hcl.Range, summary, format string, args ...any) {
	l.diags = l.diags.Append(diags.Errorf(&rng, summary, format, args...))
}

// buildContext makes the configuration-scope evaluation context from the
// variables' and locals' values.
func (l *loader) buildContext() {
	l.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": l.varObject(), "local": cty.ObjectVal(l.cfg.Locals)},
		Functions: l.funcs,
	}
}

// uniqueBlock returns the first of blocks and reports the others as duplicates.
func (l *loader) uniqueBlock(blocks []*hcl.Block, what string) *hcl.Block {
	if len(blocks) == 0 {
		return nil
	}
	for _, b := range blocks[1:] {
		l.errorf(b.DefRange, fmt.Sprintf("Duplicate %s block", what),
			"Only one %s block is allowed here; another was defined at %s.", what, blocks[0].DefRange)
	}
	return blocks[0]
}

// blocksOfType filters a body's blocks by type, keeping their order.
func blocksOfType(c *hcl.BodyContent, typ string) []*hcl.Block {
	var out []*hcl.Block
	for _, b := range c.Blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	return out
}
