package redact

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Replacement is what every occurrence of a secret becomes.
const Replacement = "(sensitive value)"

// Redactor holds secrets and removes them from text. It is safe for concurrent use.
type Redactor struct {
	mu sync.RWMutex
	// secrets is sorted longest first so that a secret containing another is
	// replaced whole.
	secrets []string
	seen    map[string]bool
	// first marks the bytes some secret starts with, so most bytes are passed
	// on without comparing.
	first [256]bool
}

// New returns a Redactor holding secrets.
func New(secrets ...string) *Redactor {
	r := &Redactor{seen: map[string]bool{}}
	r.Add(secrets...)
	return r
}

// Add makes the Redactor remove secrets from now on. Empty and all-blank values are
// ignored. Besides each value itself, its JSON-escaped and Go-quoted spellings are
// removed, so a secret with quotes or backslashes is caught in JSON output and in
// quoted log fields too.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if strings.TrimSpace(s) == "" {
			continue
		}
		for _, form := range spellings(s) {
			if !r.seen[form] {
				r.seen[form] = true
				r.secrets = append(r.secrets, form)
				r.first[form[0]] = true
			}
		}
	}
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// spellings returns s and the escaped forms in which it may be printed.
func spellings(s string) []string {
	out := []string{s}
	if j, err := json.Marshal(s); err == nil {
		out = append(out, string(j[1:len(j)-1]))
	}
	q := strconv.Quote(s)
	out = append(out, q[1:len(q)-1])
	return out
}

// Len returns how many spellings of secrets the Redactor removes.
func (r *Redactor) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.secrets)
}

// String returns s with every secret replaced.
func (r *Redactor) String(s string) string {
	out, _ := r.redact([]byte(s), true)
	return string(out)
}

// redact replaces the secrets in b. Unless final, it stops at the first position
// from which the rest of b could be the start of a secret and returns that rest as
// held, to be completed by the next write.
func (r *Redactor) redact(b []byte, final bool) (out, held []byte) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.secrets) == 0 {
		return b, nil
	}
	out = make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		if !r.first[b[i]] {
			out = append(out, b[i])
			i++
			continue
		}
		if s := r.matchAt(b[i:]); s != "" {
			out = append(out, Replacement...)
			i += len(s)
			continue
		}
		if !final && r.startsSecret(b[i:]) {
			return out, append([]byte(nil), b[i:]...)
		}
		out = append(out, b[i])
		i++
	}
	return out, nil
}

// matchAt returns the longest secret that b starts with, or "".
func (r *Redactor) matchAt(b []byte) string {
	for _, s := range r.secrets {
		if len(b) >= len(s) && string(b[:len(s)]) == s {
			return s
		}
	}
	return ""
}

// startsSecret reports whether b is a proper prefix of some secret.
func (r *Redactor) startsSecret(b []byte) bool {
	for _, s := range r.secrets {
		if len(b) < len(s) && s[:len(b)] == string(b) {
			return true
		}
	}
	return false
}
