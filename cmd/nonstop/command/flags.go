package command

import (
	"flag"
	"strings"

	"github.com/nonstop-release/nonstop/lang"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// VarFlags are the variable flags of every command that reads the configuration.
type VarFlags struct {
	// Vars are "name=value" assignments from -var, in order.
	Vars []string
	// VarFiles are the files named by -var-file, in order.
	VarFiles []string
	// Ref is a git revision (-ref) to read the configuration at instead of the
	// work tree; "" reads the work tree.
	Ref string
}

// Register adds -var and -var-file (both repeatable) to fs.
func (v *VarFlags) Register(fs *flag.FlagSet) {
	fs.Var((*stringList)(&v.Vars), "var", "set a variable: -var 'name=value' (repeatable; later wins)")
	fs.Var((*stringList)(&v.VarFiles), "var-file", "read variable values from an HCL file of name = value (repeatable)")
	fs.StringVar(&v.Ref, "ref", "", "read the configuration as committed at this git `revision` (branch, tag, commit, HEAD~1) instead of the work tree; the plan and state record its commit")
}

// LoadOptions returns the loader options for these flags; getenv supplies the
// NONSTOP_VAR_ variables and env().
func (v VarFlags) LoadOptions(getenv func(string) (string, bool)) lang.LoadOptions {
	return lang.LoadOptions{Vars: v.Vars, VarFiles: v.VarFiles, Getenv: getenv}
}
