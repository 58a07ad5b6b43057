package command

import (
	"flag"
	"fmt"
	"strings"
	"time"

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
	// UnsetUnknown makes variables without a value unknown instead of errors
	// (lang.LoadOptions.UnsetUnknown): validate sets it, no flag does.
	UnsetUnknown bool

	// fs is the FlagSet Register added the flags to; Check looks at its other
	// flags once they are parsed.
	fs *flag.FlagSet
}

// Register adds -var and -var-file (both repeatable) and -ref to fs.
func (v *VarFlags) Register(fs *flag.FlagSet) {
	fs.Var((*stringList)(&v.Vars), "var", "set a variable: -var 'name=value' (repeatable; later wins)")
	fs.Var((*stringList)(&v.VarFiles), "var-file", "read variable values from an HCL file of name = value (repeatable)")
	fs.StringVar(&v.Ref, "ref", "", "read the configuration as committed at this git `revision` (branch, tag, commit, HEAD~1) instead of the work tree; the plan and state record its commit")
	v.fs = fs
}

// LoadOptions returns the loader options for these flags; getenv supplies the
// NONSTOP_VAR_ variables and env().
func (v VarFlags) LoadOptions(getenv func(string) (string, bool)) lang.LoadOptions {
	return lang.LoadOptions{Vars: v.Vars, VarFiles: v.VarFiles, Getenv: getenv, UnsetUnknown: v.UnsetUnknown}
}

// Check reports what is wrong with the parsed flags of the command beyond what
// each flag's own parsing refuses: a negative -lock-timeout, however the
// command declared it (fs.DurationVar accepts "-1s"). Meta.LoadConfig calls it,
// so every command that reads the configuration refuses it before anything else.
func (v VarFlags) Check() error {
	if v.fs == nil {
		return nil
	}
	f := v.fs.Lookup(LockTimeoutFlag)
	if f == nil {
		return nil
	}
	if g, ok := f.Value.(flag.Getter); ok {
		if d, ok := g.Get().(time.Duration); ok && d < 0 {
			_, err := parseLockTimeout(d.String())
			return fmt.Errorf("invalid value for -%s: %w", LockTimeoutFlag, err)
		}
	}
	return nil
}

// LockTimeoutFlag is the name of the flag that bounds the wait for the state lock.
const LockTimeoutFlag = "lock-timeout"

// parseLockTimeout parses a -lock-timeout value: a duration of zero (one try)
// or more.
func parseLockTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 30s or 2m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s is negative: give how long to retry taking the state lock, 0s for a single try", s)
	}
	return d, nil
}

// lockTimeout is the flag.Value of -lock-timeout.
type lockTimeout struct{ d *time.Duration }

func (l lockTimeout) String() string {
	if l.d == nil {
		return "0s"
	}
	return l.d.String()
}

func (l lockTimeout) Set(s string) error {
	d, err := parseLockTimeout(s)
	if err == nil {
		*l.d = d
	}
	return err
}

// Get returns the duration, as the flag package's own duration flag does.
func (l lockTimeout) Get() any { return *l.d }

// registerLockTimeout adds -lock-timeout to fs, storing into d; the flag itself
// refuses a negative duration. Commands declare -lock-timeout with it.
func registerLockTimeout(fs *flag.FlagSet, d *time.Duration, usage string) {
	fs.Var(lockTimeout{d}, LockTimeoutFlag, usage)
}
