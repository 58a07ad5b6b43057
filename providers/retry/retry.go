package retry

import (
	"context"
	"errors"
	"io"
	"syscall"
	"time"
)

// Policy is how a provider repeats a call that failed in a way worth repeating:
// up to Attempts tries, pausing Backoff after the first failure and twice as long
// after each next one.
type Policy struct {
	Attempts int
	Backoff  time.Duration
}

// Do runs try until it succeeds, fails in a way worth (per worth) not repeating,
// ctx ends or p.Attempts tries were made, and returns the last error. onRetry,
// when set, hears each failure that is tried again.
func (p Policy) Do(ctx context.Context, try func() error, worth func(error) bool, onRetry func(error)) error {
	pause := p.Backoff
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil || attempt >= p.Attempts || ctx.Err() != nil || !worth(err) {
			return err
		}
		if onRetry != nil {
			onRetry(err)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause *= 2
	}
}

// ConnectionFailed reports a connection refused, reset or closed before the
// answer: a server restarting, not one that refuses the request (TLS, DNS) nor
// one that took too long (a timeout is never repeated, so the bound holds).
func ConnectionFailed(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
