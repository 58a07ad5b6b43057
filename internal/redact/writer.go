package redact

import (
	"io"
	"sync"
)

// Writer is an io.Writer that removes its Redactor's secrets before passing bytes on.
// It is safe for concurrent use; each Write is redacted as a whole.
type Writer struct {
	r    *Redactor
	mu   sync.Mutex
	out  io.Writer
	held []byte
	// prev is the last byte passed on (before redaction), which decides
	// whether a secret at the start of the next write starts a token.
	prev byte
}

// Writer returns a Writer that redacts everything written to w. The end of a write
// that could be the start of a secret is held back until the next write completes or
// refutes it, or until Flush; a write that ends in a newline is passed on whole
// unless a secret itself contains a newline.
func (r *Redactor) Writer(w io.Writer) *Writer {
	return &Writer{r: r, out: w}
}

// Write redacts p and writes what is certain to the underlying writer. It reports
// len(p) on success, as the bytes written onward differ in length from p.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf := p
	if len(w.held) > 0 {
		buf = append(w.held, p...)
	}
	out, held := w.r.redact(buf, w.prev, false)
	if done := len(buf) - len(held); done > 0 {
		w.prev = buf[done-1]
	}
	w.held = held
	if len(out) > 0 {
		if _, err := w.out.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes any held-back bytes, redacted, to the underlying writer.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.held) == 0 {
		return nil
	}
	out, _ := w.r.redact(w.held, w.prev, true)
	w.prev = w.held[len(w.held)-1]
	w.held = nil
	_, err := w.out.Write(out)
	return err
}
