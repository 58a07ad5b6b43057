package nacos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/providers/retry"
)

// httpError is a non-2xx answer from the server.
type httpError struct {
	Status int
	Body   string
}

func (e *httpError) Error() string {
	body := strings.TrimSpace(e.Body)
	if len(body) > 300 {
		body = body[:300] + "..."
	}
	return fmt.Sprintf("server answered %d %s: %s", e.Status, http.StatusText(e.Status), body)
}

// Polaris result codes.
const (
	polarisOK = 200000
	// polarisNoChange answers a write that asks for the value already there ("update
	// data is no change"): on Polaris a restarted instance registers enabled, so
	// enabling it after a deploy is such a write. The state asked for holds: success.
	polarisNoChange = 200002
	polarisNotFound = 400202 // "not found resource"
)

// polarisError is a refusal from Polaris' own API.
type polarisError struct {
	Code int
	Info string
}

func (e *polarisError) Error() string {
	return fmt.Sprintf("polaris refused the request: code %d: %s", e.Code, e.Info)
}

// statusOf returns the HTTP status of an httpError, or 0.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.Status
	}
	return 0
}

// Retries. Every call nonstop makes to Nacos or Polaris is safe to repeat:
// reads, and writes that set a value whole (an instance's complete form, its
// isolate flag or weight, a document's content without compare-and-swap, a
// delete). A call is tried up to callAttempts times, with a pause of
// callBackoff doubling after each, while it fails in a way worth repeating: no
// server could be reached (refused, reset: a restart), or one answered 502, 503
// or 504. A try that ran out of time is not repeated: a server that accepts
// connections and never answers fails the call after the timeout (once per
// address), with an error naming the address and the bound.
const (
	callAttempts = 3
	callBackoff  = 200 * time.Millisecond
)

// retrying runs try until it succeeds, fails in a way not worth repeating, ctx
// ends or callAttempts tries were made.
func retrying(ctx context.Context, try func() error) error {
	return retry.Policy{Attempts: callAttempts, Backoff: callBackoff}.Do(ctx, try, retryable, nil)
}

// retryable reports whether a failed try is worth repeating (see retrying).
func retryable(err error) bool {
	switch statusOf(err) {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case 0:
		var te *transportError
		return errors.As(err, &te) && !te.timeout && !te.stopped && retry.ConnectionFailed(te.err)
	}
	return false
}

// nacosCall sends a request to the Nacos HTTP API, trying each address in turn
// while they cannot be reached, with the access token added when a username is set.
// Form values go in the body for POST and PUT, in the query otherwise. It returns the
// body and headers of a 2xx answer, and the address it used. It retries as
// retrying says.
func (n *Nacos) nacosCall(ctx context.Context, method, path string, params url.Values) ([]byte, http.Header, string, error) {
	var (
		body []byte
		hdr  http.Header
		addr string
	)
	err := retrying(ctx, func() error {
		var err error
		body, hdr, addr, err = n.nacosCallOnce(ctx, method, path, params)
		if s := statusOf(err); n.cfg.Username != "" && (s == http.StatusForbidden || s == http.StatusUnauthorized) {
			// The token may have been revoked or expired early (a server restart): log
			// in again once.
			n.forgetToken()
			body, hdr, addr, err = n.nacosCallOnce(ctx, method, path, params)
		}
		return err
	})
	return body, hdr, addr, err
}

func (n *Nacos) nacosCallOnce(ctx context.Context, method, path string, params url.Values) ([]byte, http.Header, string, error) {
	if n.cfg.Username != "" {
		token, err := n.accessToken(ctx)
		if err != nil {
			return nil, nil, n.cfg.Addresses[0], err
		}
		params = cloneValues(params)
		params.Set("accessToken", token)
	}
	n.addrMu.Lock()
	first := n.preferred
	n.addrMu.Unlock()
	var lastErr error
	var lastAddr string
	for i := range n.cfg.Addresses {
		idx := (first + i) % len(n.cfg.Addresses)
		addr := n.cfg.Addresses[idx]
		body, hdr, err := n.send(ctx, method, "http://"+addr+path, params, "")
		if err == nil || statusOf(err) != 0 {
			if err == nil && idx != first {
				n.addrMu.Lock()
				n.preferred = idx
				n.addrMu.Unlock()
			}
			return body, hdr, addr, err
		}
		lastErr, lastAddr = err, addr
		if ctx.Err() != nil {
			break
		}
	}
	return nil, nil, lastAddr, lastErr
}

// polarisCall sends a request to Polaris' own HTTP API. jsonBody, when not nil, is
// sent as the JSON body. It checks Polaris' result code (200000 is success). It
// retries as retrying says.
func (n *Nacos) polarisCall(ctx context.Context, method, path string, query url.Values, jsonBody any, out any) error {
	return retrying(ctx, func() error { return n.polarisCallOnce(ctx, method, path, query, jsonBody, out) })
}

func (n *Nacos) polarisCallOnce(ctx context.Context, method, path string, query url.Values, jsonBody any, out any) error {
	var body string
	if jsonBody != nil {
		b, err := json.Marshal(jsonBody)
		if err != nil {
			return err
		}
		body = string(b)
	}
	u := "http://" + n.cfg.PolarisAddress + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	token := ""
	if n.cfg.Username != "" {
		// On Polaris the Nacos password is a Polaris token, which its own API takes
		// in the X-Polaris-Token header.
		t, err := n.accessToken(ctx)
		if err != nil {
			return err
		}
		token = t
	}
	raw, _, err := n.send(ctx, method, u, nil, body, token)
	var result struct {
		Code int    `json:"code"`
		Info string `json:"info"`
	}
	if he, ok := err.(*httpError); ok {
		// Polaris answers refusals with a 4xx status and its code in the body.
		if json.Unmarshal([]byte(he.Body), &result) == nil && result.Code != 0 {
			if result.Code == polarisNoChange {
				return nil
			}
			return &polarisError{Code: result.Code, Info: result.Info}
		}
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &result); err != nil {
		return fmt.Errorf("undecodable answer: %v", err)
	}
	if result.Code == polarisNoChange {
		return nil
	}
	if result.Code != polarisOK {
		return &polarisError{Code: result.Code, Info: result.Info}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("undecodable answer: %v", err)
		}
	}
	return nil
}

// send performs one HTTP request. form is encoded into the body for POST and PUT
// and into the query otherwise; jsonBody, when set, is the body instead.
func (n *Nacos) send(ctx context.Context, method, u string, form url.Values, jsonBody string, polarisToken ...string) ([]byte, http.Header, error) {
	var body io.Reader
	contentType := ""
	switch {
	case jsonBody != "":
		body, contentType = strings.NewReader(jsonBody), "application/json"
	case len(form) > 0 && (method == http.MethodPost || method == http.MethodPut):
		body, contentType = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	case len(form) > 0:
		u += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if len(polarisToken) > 0 && polarisToken[0] != "" {
		req.Header.Set("X-Polaris-Token", polarisToken[0])
	}
	resp, err := n.http.Do(req)
	if err != nil {
		return nil, nil, n.unreachable(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read answer: %w", n.unreachable(ctx, err))
	}
	if resp.StatusCode/100 != 2 {
		return nil, resp.Header, &httpError{Status: resp.StatusCode, Body: string(raw)}
	}
	return raw, resp.Header, nil
}

// transportError is a request that got no answer: the server could not be
// reached, did not answer within the bound, or the caller stopped waiting.
type transportError struct {
	err     error
	bound   time.Duration // the provider's timeout
	timeout bool          // the request ran out of the provider's timeout
	stopped bool          // the caller's context ended
}

func (e *transportError) Error() string {
	switch {
	case e.stopped:
		return fmt.Sprintf("no answer before the call was stopped: %v", e.err)
	case e.timeout:
		return fmt.Sprintf("server did not answer within %s (the provider's timeout): %v", e.bound, e.err)
	}
	return fmt.Sprintf("server unreachable: %v", e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// unreachable rewrites a transport error into words an operator understands,
// naming the bound when the request ran out of it.
func (n *Nacos) unreachable(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	te := &transportError{err: err, bound: n.http.Timeout}
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		te.stopped = true
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		te.timeout = true
	}
	return te
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
