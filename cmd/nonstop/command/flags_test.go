package command

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// TestNegativeLockTimeout checks that every command with -lock-timeout refuses a
// negative one before it reads anything.
func TestNegativeLockTimeout(t *testing.T) {
	dir := fakeFleet(t)
	found := 0
	for _, c := range table {
		help := run(t, quiet, "", c.Name, "-help")
		if !strings.Contains(help.stdout, "-"+LockTimeoutFlag) {
			continue
		}
		found++
		for _, arg := range []string{"-1s", "-0.5ms"} {
			res := run(t, quiet, "", c.Name, "-"+LockTimeoutFlag, arg, dir)
			if res.code != 1 || !strings.Contains(strings.Join(strings.Fields(res.stderr), " "), "is negative: give how long to retry taking the state lock") {
				t.Errorf("%s -lock-timeout %s: exit code %d, want 1 with a clear error:\n%s", c.Name, arg, res.code, res)
			}
		}
	}
	if found == 0 {
		t.Fatal("no command has -lock-timeout")
	}
}

// TestLockTimeoutFlag checks both ways a command may declare -lock-timeout: with
// registerLockTimeout the flag refuses a negative value itself; declared as a
// plain duration, before or after VarFlags.Register, VarFlags.Check refuses it.
func TestLockTimeoutFlag(t *testing.T) {
	for name, declare := range map[string]func(fs *flag.FlagSet, d *time.Duration, v *VarFlags){
		"registerLockTimeout": func(fs *flag.FlagSet, d *time.Duration, v *VarFlags) {
			registerLockTimeout(fs, d, "")
			v.Register(fs)
		},
		"DurationVar before Register": func(fs *flag.FlagSet, d *time.Duration, v *VarFlags) {
			fs.DurationVar(d, LockTimeoutFlag, 0, "")
			v.Register(fs)
		},
		"DurationVar after Register": func(fs *flag.FlagSet, d *time.Duration, v *VarFlags) {
			v.Register(fs)
			fs.DurationVar(d, LockTimeoutFlag, 0, "")
		},
	} {
		t.Run(name, func(t *testing.T) {
			tests := map[string]struct {
				want    time.Duration
				wantErr string
			}{
				"0s":   {0, ""},
				"90s":  {90 * time.Second, ""},
				"-1s":  {0, "-1s is negative"},
				"soon": {0, "soon"},
			}
			for arg, tc := range tests {
				var d time.Duration
				var v VarFlags
				fs := flag.NewFlagSet("x", flag.ContinueOnError)
				fs.SetOutput(io.Discard)
				declare(fs, &d, &v)
				err := fs.Parse([]string{"-" + LockTimeoutFlag, arg})
				if err == nil {
					err = v.Check()
				}
				if tc.wantErr == "" && (err != nil || d != tc.want) {
					t.Errorf("%s: got %v, %v; want %v", arg, d, err, tc.want)
				}
				if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
					t.Errorf("%s: error %v, want one saying %q", arg, err, tc.wantErr)
				}
			}
		})
	}
}
