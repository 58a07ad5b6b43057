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
	// prev holds the last bytes passed on (before redaction), which decide
	// whether a secret at the start of the next write starts a token.
	prev []byte
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
	w.remember(buf[:len(buf)-len(held)])
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
	w.remember(w.held)
	w.held = nil
	_, err := w.out.Write(out)
	return err
}

// remember keeps the last contextSize bytes of what was passed on.
func (w *Writer) remember(done []byte) {
	w.prev = before(w.prev, done, len(done))
	w.prev = append([]byte(nil), w.prev...)
}
