package diags

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Severity says whether a diagnostic stops the operation.
type Severity int

const (
	// Error diagnostics stop the operation.
	Error Severity = iota
	// Warning diagnostics are reported but do not stop anything.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one error or warning.
type Diagnostic struct {
	Severity Severity
	// Summary is a short title phrase: "Invalid provider reference".
	Summary string
	// Detail is one or more full sentences.
	Detail string
	// Subject is the source range the diagnostic is about; nil for failures of the
	// environment (a server that does not answer).
	Subject *hcl.Range
	// Context is an optional wider range that contains Subject.
	Context *hcl.Range
}

// Error makes a Diagnostic usable as an error.
func (d Diagnostic) Error() string {
	var b strings.Builder
	if d.Subject != nil {
		fmt.Fprintf(&b, "%s: ", d.Subject.String())
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString("; ")
		b.WriteString(d.Detail)
	}
	return b.String()
}

// Sourceless returns a diagnostic that is not about a place in the configuration.
func Sourceless(sev Severity, summary, detail string) Diagnostic {
	return Diagnostic{Severity: sev, Summary: summary, Detail: detail}
}

// Errorf returns an error diagnostic about rng (which may be nil).
func Errorf(rng *hcl.Range, summary, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Error, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: copyRange(rng)}
}

// Warningf returns a warning diagnostic about rng (which may be nil).
func Warningf(rng *hcl.Range, summary, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Warning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: copyRange(rng)}
}

func copyRange(rng *hcl.Range) *hcl.Range {
	if rng == nil {
		return nil
	}
	r := *rng
	return &r
}

// Diagnostics is a list of diagnostics, in the order they were found.
type Diagnostics []Diagnostic

// Append adds items to the list and returns it. An item may be a Diagnostic,
// *Diagnostic, Diagnostics, *hcl.Diagnostic, hcl.Diagnostics or an error (which
// becomes a sourceless error diagnostic). Nil items are ignored.
func (d Diagnostics) Append(items ...any) Diagnostics {
	for _, item := range items {
		switch v := item.(type) {
		case nil:
		case Diagnostic:
			d = append(d, v)
		case *Diagnostic:
			if v != nil {
				d = append(d, *v)
			}
		case Diagnostics:
			d = append(d, v...)
		case *hcl.Diagnostic:
			if v != nil {
				d = append(d, FromHCL(v))
			}
		case hcl.Diagnostics:
			for _, h := range v {
				d = append(d, FromHCL(h))
			}
		case error:
			var dd Diagnostic
			var many Diagnostics
			switch {
			case errors.As(v, &many):
				d = append(d, many...)
			case errors.As(v, &dd):
				d = append(d, dd)
			default:
				d = append(d, Sourceless(Error, v.Error(), ""))
			}
		default:
			panic(fmt.Sprintf("diags: cannot append %T", item))
		}
	}
	return d
}

// FromHCL converts an HCL diagnostic.
func FromHCL(h *hcl.Diagnostic) Diagnostic {
	sev := Error
	if h.Severity == hcl.DiagWarning {
		sev = Warning
	}
	return Diagnostic{Severity: sev, Summary: h.Summary, Detail: h.Detail, Subject: copyRange(h.Subject), Context: copyRange(h.Context)}
}

// HasErrors reports whether any diagnostic is an error.
func (d Diagnostics) HasErrors() bool {
	for _, x := range d {
		if x.Severity == Error {
			return true
		}
	}
	return false
}

// Errs returns only the error diagnostics.
func (d Diagnostics) Errs() Diagnostics {
	var out Diagnostics
	for _, x := range d {
		if x.Severity == Error {
			out = append(out, x)
		}
	}
	return out
}

// Err returns the list as an error when it holds an error diagnostic, nil otherwise.
func (d Diagnostics) Err() error {
	if !d.HasErrors() {
		return nil
	}
	return d
}

// Error joins the diagnostics' texts, one per line.
func (d Diagnostics) Error() string {
	parts := make([]string, 0, len(d))
	for _, x := range d {
		parts = append(parts, x.Error())
	}
	return strings.Join(parts, "\n")
}
