package executor

import (
	"bufio"
	"context"
	"os"
	"strings"
	"sync"
	"time"
)

// resumeHub hands resumes to the pauses waiting for them. A resume that arrives
// before its pause starts is remembered.
type resumeHub struct {
	mu      sync.Mutex
	resumed map[string]bool
	waiters map[string][]chan struct{}
}

func newResumeHub() *resumeHub {
	return &resumeHub{resumed: map[string]bool{}, waiters: map[string][]chan struct{}{}}
}

// follow feeds the hub from ch until ch closes or ctx ends.
func (h *resumeHub) follow(ctx context.Context, ch <-chan string) {
	for {
		select {
		case <-ctx.Done():
			return
		case id, ok := <-ch:
			if !ok {
				return
			}
			h.resume(strings.TrimSpace(id))
		}
	}
}

func (h *resumeHub) resume(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.resumed[id] = true
	for _, w := range h.waiters[id] {
		close(w)
	}
	delete(h.waiters, id)
}

// wait blocks until id is resumed or ctx ends.
func (h *resumeHub) wait(ctx context.Context, id string) error {
	h.mu.Lock()
	if h.resumed[id] {
		h.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	h.waiters[id] = append(h.waiters[id], w)
	h.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WatchResumeFile polls a file that `nonstop resume STEP` appends step ids to, one
// per line, and sends each new id on the returned channel until ctx ends. Lines
// present when watching starts are sent too, so a resume given early is not lost.
func WatchResumeFile(ctx context.Context, path string, every time.Duration) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sent := 0
		for {
			if lines, err := readLines(path); err == nil {
				for ; sent < len(lines); sent++ {
					select {
					case ch <- lines[sent]:
					case <-ctx.Done():
						return
					}
				}
			}
			if sleep(ctx, every) != nil {
				return
			}
		}
	}()
	return ch
}

// readLines returns a file's complete, non-empty lines.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return out, nil // an unterminated last line is still being written
		}
		if s := strings.TrimSpace(line); s != "" {
			out = append(out, s)
		}
	}
}
