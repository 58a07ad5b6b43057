package f5

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
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

// send makes one authenticated request; with a token it logs in again and retries
// once when the token was refused (401). body, when not nil, is sent as JSON; out,
// when not nil, receives the decoded answer.
func (f *F5) send(ctx context.Context, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
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
	req, err := http.NewRequestWithContext(ctx, method, f.base.String()+path, rd)
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
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	f.logger.Debug("f5 request", "provider", f.name, "method", method, "path", path,
		"status", resp.StatusCode, "took", time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %v", method, path, err)
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
