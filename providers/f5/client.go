package f5

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/providers/retry"
)

// maxBody bounds how much of an answer is read: a large pool's member list is a few
// hundred kilobytes.
const maxBody = 32 << 20

// apiError is a non-2xx answer of iControl REST. Its body is usually
// {"code": 404, "message": "01020036:3: The requested Pool (/Common/x) was not
// found.", "errorStack": [], "apiError": 3}.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string {
	text := http.StatusText(e.Status)
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d %s", e.Status, text)
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, text, e.Message)
}

// statusOf returns the HTTP status of an apiError, 0 for any other error.
func statusOf(err error) int {
	if e, ok := err.(*apiError); ok {
		return e.Status
	}
	return 0
}

// getJSON sends GET path and decodes the answer into out.
func (f *F5) getJSON(ctx context.Context, path string, out any) error {
	return f.send(ctx, http.MethodGet, path, nil, out)
}

// Retries. What the provider sends is safe to repeat: GETs, and PATCHes of a
// member that set its state, session or ratio whole. A request is tried up to
// callAttempts times, with a pause of callBackoff doubling after each, while it
// fails in a way worth repeating: the connection was refused or dropped (a
// restarting restjavad or httpd), or the answer was 502, 503 or 504. A request
// that ran out of time is not repeated: a BIG-IP that does not answer fails it
// after the request timeout, with an error naming the URL and the bound.
const (
	callAttempts = 3
	callBackoff  = 200 * time.Millisecond
)

// send makes one authenticated request; with a token it logs in again and retries
// once when the token was refused (401). body, when not nil, is sent as JSON; out,
// when not nil, receives the decoded answer. It retries as the const block above
// says.
func (f *F5) send(ctx context.Context, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	return retry.Policy{Attempts: callAttempts, Backoff: callBackoff}.Do(ctx,
		func() error { return f.sendOnce(ctx, method, path, payload, out) }, retryable,
		func(err error) {
			f.logger.Debug("f5: trying again", "provider", f.name, "method", method, "path", logPath(path), "error", err)
		})
}

// retryable reports whether a failed request is worth repeating.
func retryable(err error) bool {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status == http.StatusBadGateway || ae.Status == http.StatusServiceUnavailable || ae.Status == http.StatusGatewayTimeout
	}
	var te *transportError
	return errors.As(err, &te) && !te.timeout && !te.stopped && retry.ConnectionFailed(te.err)
}

// transportError is a request that got no answer.
type transportError struct {
	method, url string
	err         error
	bound       time.Duration // the request timeout
	timeout     bool          // the request ran out of the request timeout
	stopped     bool          // the caller's context ended
}

func (e *transportError) Error() string {
	switch {
	case e.stopped:
		return fmt.Sprintf("%s %s: no answer before the call was stopped: %v", e.method, e.url, e.err)
	case e.timeout:
		return fmt.Sprintf("%s %s: no answer within %s (the request timeout): %v", e.method, e.url, e.bound, e.err)
	}
	return fmt.Sprintf("%s %s: %v", e.method, e.url, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// transportErr describes a request that got no answer, naming the bound when it
// ran out of it.
func (f *F5) transportErr(ctx context.Context, method, u string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	te := &transportError{method: method, url: u, err: err, bound: f.http.Timeout}
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		te.stopped = true
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		te.timeout = true
	}
	return te
}

// sendOnce is one try of send.
func (f *F5) sendOnce(ctx context.Context, method, path string, payload []byte, out any) error {
	for attempt := 0; ; attempt++ {
		h, err := f.authHeader(ctx, attempt > 0)
		if err != nil {
			return err
		}
		raw, err := f.do(ctx, method, path, payload, h)
		if statusOf(err) == http.StatusUnauthorized && attempt == 0 && h.Get(tokenHeader) != "" {
			f.logger.Debug("f5: token refused, logging in again", "provider", f.name)
			continue
		}
		if err != nil {
			return err
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not the expected JSON: %v", method, path, err)
		}
		return nil
	}
}

// do sends one request with the given extra headers and returns the body of a 2xx
// answer, or an *apiError.
func (f *F5) do(ctx context.Context, method, path string, payload []byte, h http.Header) ([]byte, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	u := f.base.String() + path
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := f.http.Do(req)
	if err != nil {
		return nil, f.transportErr(ctx, method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	f.logger.Debug("f5 request", "provider", f.name, "method", method, "path", logPath(path),
		"status", resp.StatusCode, "took", time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", f.transportErr(ctx, method, u, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &apiError{Status: resp.StatusCode, Message: errorMessage(raw)}
	}
	return raw, nil
}

var htmlTitle = regexp.MustCompile(`(?is)<title>\s*(.*?)\s*</title>`)

// errorMessage extracts the message of an error answer: the "message" of iControl
// REST's JSON error body (never the rest of it: a refused login echoes the request
// in "originalRequestBody"), the title of an HTML page (httpd or a proxy in front of
// iControl REST), or else the first line of text, at most 300 characters.
func errorMessage(raw []byte) string {
	var body struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &body) == nil {
		return clip(body.Message)
	}
	if m := htmlTitle.FindSubmatch(raw); m != nil {
		return clip(string(m[1]))
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
	return clip(line)
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// logPath is a request path as logs show it: a token in the path (DELETE
// /mgmt/shared/authz/tokens/TOKEN) is a secret and is left out.
func logPath(path string) string {
	const tokens = "/mgmt/shared/authz/tokens/"
	if strings.HasPrefix(path, tokens) && len(path) > len(tokens) {
		return tokens + "(token)"
	}
	return path
}
