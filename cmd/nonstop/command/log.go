package command

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// LogEnv is the environment variable that sets the log level.
const LogEnv = "NONSTOP_LOG"

// NewLogger returns the "nonstop" logger writing to w at the level named by
// NONSTOP_LOG: trace, debug, info, warn (the default) or error, in any case. An
// unknown level is reported with a warning on w and warn is used. Pass a
// redacting writer as w: the logger itself knows nothing of secrets.
func NewLogger(w io.Writer, getenv func(string) (string, bool)) hclog.Logger {
	level := hclog.Warn
	raw, set := getenv(LogEnv)
	raw = strings.TrimSpace(raw)
	if set && raw != "" {
		level = hclog.LevelFromString(raw)
		if level == hclog.NoLevel || strings.EqualFold(raw, "off") {
			fmt.Fprintf(w, "Warning: %s=%q is not a log level (trace, debug, info, warn, error); using warn.\n", LogEnv, raw)
			level = hclog.Warn
		}
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:   "nonstop",
		Level:  level,
		Output: w,
	})
}
