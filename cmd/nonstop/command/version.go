package command

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/nonstop-release/nonstop/lang"
)

const versionHelp = `
Usage: nonstop version [options]

  Prints the version of nonstop, the Go release it was built with, the
  platform and, when the binary was built from a git checkout, the commit.

Exit codes:
  0  always, unless the flags are wrong (1)
`

var versionCommand = &Command{
	Name:     "version",
	Synopsis: "Print the nonstop version",
	Help:     versionHelp,
	Run:      runVersion,
}

// versionInfo is the output of nonstop version -json.
type versionInfo struct {
	FormatVersion string `json:"format_version"`
	Version       string `json:"nonstop_version"`
	GoVersion     string `json:"go_version"`
	Platform      string `json:"platform"`
	Commit        string `json:"commit,omitempty"`
	CommitTime    string `json:"commit_time,omitempty"`
	Modified      bool   `json:"modified,omitempty"`
}

// buildVersion gathers the version of this binary.
func buildVersion() versionInfo {
	v := versionInfo{FormatVersion: jsonFormatVersion, Version: lang.Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "_" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.CommitTime = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	return v
}

func runVersion(m *Meta, args []string) int {
	fs := m.FlagSet("version", versionHelp)
	jsonOut := fs.Bool("json", false, "print the version as JSON: {format_version, nonstop_version, go_version, platform, commit, ...}")
	if code, done := m.Parse(fs, args); done {
		return code
	}
	v := buildVersion()
	if *jsonOut {
		if err := m.PrintJSON(v); err != nil {
			fmt.Fprintf(m.Stderr, "Error: cannot write the version: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(m.Stdout, "nonstop v%s\non %s, built with %s\n", v.Version, v.Platform, v.GoVersion)
	if v.Commit != "" {
		dirty := ""
		if v.Modified {
			dirty = " (with uncommitted changes)"
		}
		fmt.Fprintf(m.Stdout, "commit %s%s\n", v.Commit, dirty)
	}
	return 0
}
