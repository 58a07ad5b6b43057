// Package retry repeats the provider calls that are safe to repeat (reads,
// idempotent writes) after failures worth repeating: a bounded number of tries
// with a doubling pause, never after the caller's context ended. The providers
// decide which failures are worth it; ConnectionFailed is the transport half
// they share.
package retry
