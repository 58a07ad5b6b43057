// Package diags carries diagnostics: errors and warnings with a summary, a detail and,
// where they come from configuration, the source range they are about.
//
// It is modelled on Terraform's tfdiags: functions return (T, Diagnostics), callers
// accumulate with Append and stop on HasErrors.
package diags
