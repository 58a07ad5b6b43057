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
	out, _ := r.redact([]byte(s), 0, true)
	return string(out)
}

// redact replaces the secrets in b; prev is the byte that came before b (0 at
// the start of the output). Unless final, it stops at the first position from
// which the rest of b could be the start of a secret, or a secret whose end is
// not known to be a token's end yet, and returns that rest as held, to be
// completed by the next write.
func (r *Redactor) redact(b []byte, prev byte, final bool) (out, held []byte) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.secrets) == 0 {
		return b, nil
	}
	out = make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		before := prev
		if i > 0 {
			before = b[i-1]
		}
		if !r.first[b[i]] {
			out = append(out, b[i])
			i++
			continue
		}
		s, pending := r.matchAt(b[i:], before, final)
		if pending {
			return out, append([]byte(nil), b[i:]...)
		}
		if s != "" {
			out = append(out, Replacement...)
			i += len(s)
			continue
		}
		out = append(out, b[i])
		i++
	}
	return out, nil
}

// matchAt returns the longest secret that b starts with as a whole token (see
// isToken), or "". Unless final, pending is true when the answer depends on
// bytes after b: b is a proper prefix of a secret, or a secret that ends b may
// go on as a word.
func (r *Redactor) matchAt(b []byte, before byte, final bool) (secret string, pending bool) {
	for _, s := range r.secrets {
		switch {
		case len(b) < len(s):
			if !final && s[:len(b)] == string(b) && boundaryBefore(s, before) {
				return "", true
			}
		case string(b[:len(s)]) != s || !boundaryBefore(s, before):
		case len(b) == len(s) && !final && isWord(s[len(s)-1]):
			return "", true // the next write may continue the word
		case len(b) == len(s) || boundaryAfter(s, b[len(s)]):
			return s, false
		}
	}
	return "", false
}

// boundaryBefore reports whether secret s may start after the byte before: a
// secret that starts with a word character must not continue a word.
func boundaryBefore(s string, before byte) bool {
	return !isWord(s[0]) || !isWord(before)
}

// boundaryAfter reports whether secret s may end before the byte after: a secret
// that ends with a word character must not run on into a word.
func boundaryAfter(s string, after byte) bool {
	return !isWord(s[len(s)-1]) || !isWord(after)
}

// isWord reports whether c belongs to a word: an ASCII letter or digit, '_',
// or a byte of a multi-byte UTF-8 character. A secret is replaced only where it
// is a whole token, not inside a longer word: with a password "main", "domain"
// stays as it is, while password=main, "main", main: and (main) are redacted.
// Replacing the middle of a word would print the secret's surroundings and so
// tell it ("do(sensitive value)").
func isWord(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
