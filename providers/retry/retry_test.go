package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"
)

func TestDo(t *testing.T) {
	errRetry, errFinal := errors.New("busy"), errors.New("refused")
	worth := func(err error) bool { return errors.Is(err, errRetry) }
	tests := map[string]struct {
		results   []error // what each try returns; the last repeats
		wantTries int
		wantErr   error
	}{
		"first try":      {[]error{nil}, 1, nil},
		"after two":      {[]error{errRetry, errRetry, nil}, 3, nil},
		"gives up":       {[]error{errRetry}, 3, errRetry},
		"not worth it":   {[]error{errFinal}, 1, errFinal},
		"then not worth": {[]error{errRetry, errFinal}, 2, errFinal},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tries, heard := 0, 0
			err := Policy{Attempts: 3, Backoff: time.Millisecond}.Do(context.Background(), func() error {
				r := tc.results[min(tries, len(tc.results)-1)]
				tries++
				return r
			}, worth, func(error) { heard++ })
			if tries != tc.wantTries || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("%d tries, error %v; want %d tries, error %v", tries, err, tc.wantTries, tc.wantErr)
			}
			if heard != tries-1 && err == nil || heard != tries-1 && errors.Is(err, errFinal) {
				t.Errorf("onRetry heard %d failures after %d tries", heard, tries)
			}
		})
	}
}

func TestDoStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	tries := 0
	err := Policy{Attempts: 10, Backoff: time.Hour}.Do(ctx, func() error {
		tries++
		cancel()
		return errors.New("busy")
	}, func(error) bool { return true }, nil)
	if err == nil || tries != 1 {
		t.Errorf("%d tries, error %v; want 1 try and its error", tries, err)
	}
}

func TestConnectionFailed(t *testing.T) {
	for err, want := range map[error]bool{
		syscall.ECONNREFUSED:                                        true,
		fmt.Errorf("dial: %w", syscall.ECONNRESET):                  true,
		io.ErrUnexpectedEOF:                                         true,
		context.DeadlineExceeded:                                    false,
		errors.New("x509: certificate signed by unknown authority"): false,
	} {
		if got := ConnectionFailed(err); got != want {
			t.Errorf("ConnectionFailed(%v) = %t, want %t", err, got, want)
		}
	}
}
