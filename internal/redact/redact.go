package redact

import (
	"encoding/json"
	"net/url"
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
// ignored. Besides each value itself, its JSON-escaped, Go-quoted and
// percent-encoded spellings are removed, so a secret with quotes, backslashes or
// other special characters is caught in JSON output, in quoted log fields and in
// URLs too.
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

// spellings returns s and the escaped forms in which it may be printed: in JSON,
// Go-quoted, and percent-encoded in a URL's query or path.
func spellings(s string) []string {
	out := []string{s}
	if j, err := json.Marshal(s); err == nil {
		out = append(out, string(j[1:len(j)-1]))
	}
	q := strconv.Quote(s)
	out = append(out, q[1:len(q)-1], url.QueryEscape(s), url.PathEscape(s))
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
	out, _ := r.redact([]byte(s), nil, true)
	return string(out)
}

// contextSize is how many bytes before a position decide whether a token may
// start there: enough for a \uXXXX escape.
const contextSize = 6

// redact replaces the secrets in b; prev holds the bytes that came before b (the
// last contextSize at most; none at the start of the output). Unless final, it
// stops at the first position from which the rest of b could be the start of a
// secret, or a secret whose end is not known to end a token yet, and returns that
// rest as held, to be completed by the next write.
func (r *Redactor) redact(b, prev []byte, final bool) (out, held []byte) {
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
		s, pending := r.matchAt(b[i:], before(prev, b, i), final)
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

// before returns up to contextSize bytes that precede position i of b, taking
// them from prev when b has fewer.
func before(prev, b []byte, i int) []byte {
	if i >= contextSize {
		return b[i-contextSize : i]
	}
	ctx := append(append(make([]byte, 0, contextSize+len(prev)), prev...), b[:i]...)
	return ctx[max(0, len(ctx)-contextSize):]
}

// matchAt returns the longest secret that b starts with as a whole token (see
// isWord), or "". Unless final, pending is true when the answer depends on bytes
// after b: b is a proper prefix of a secret, or a secret that ends b may go on
// as a word.
func (r *Redactor) matchAt(b, ctx []byte, final bool) (secret string, pending bool) {
	for _, s := range r.secrets {
		switch {
		case len(b) < len(s):
			if !final && s[:len(b)] == string(b) && startsToken(s, ctx) {
				return "", true
			}
		case string(b[:len(s)]) != s || !startsToken(s, ctx):
		case len(b) == len(s) && !final && isWord(s[len(s)-1]):
			return "", true // the next write may continue the word
		case len(b) == len(s) || endsToken(s, b[len(s)]):
			return s, false
		}
	}
	return "", false
}

// startsToken reports whether secret s starts a token after the bytes ctx: a
// secret that starts with a word character must not continue a word. An escape
// ends a word: %3D (percent-encoding), \n and \u0026 (JSON and Go quoting).
func startsToken(s string, ctx []byte) bool {
	n := len(ctx)
	switch {
	case !isWord(s[0]) || n == 0 || !isWord(ctx[n-1]):
		return true
	case n >= 3 && ctx[n-3] == '%' && isHex(ctx[n-2]) && isHex(ctx[n-1]):
		return true
	case n >= 2 && ctx[n-2] == '\\':
		return true
	case n >= 6 && ctx[n-6] == '\\' && ctx[n-5] == 'u' && isHex(ctx[n-4]) && isHex(ctx[n-3]) && isHex(ctx[n-2]) && isHex(ctx[n-1]):
		return true
	}
	return false
}

// endsToken reports whether secret s ends a token before the byte after: a
// secret that ends with a word character must not run on into a word.
func endsToken(s string, after byte) bool {
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

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
