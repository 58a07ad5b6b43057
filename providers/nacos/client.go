package nacos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
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

// nacosCall sends a request to the Nacos HTTP API, trying each address in turn
// while they cannot be reached, with the access token added when a username is set.
// Form values go in the body for POST and PUT, in the query otherwise. It returns the
// body and headers of a 2xx answer, and the address it used.
func (n *Nacos) nacosCall(ctx context.Context, method, path string, params url.Values) ([]byte, http.Header, string, error) {
	body, hdr, addr, err := n.nacosCallOnce(ctx, method, path, params)
	if s := statusOf(err); n.cfg.Username != "" && (s == http.StatusForbidden || s == http.StatusUnauthorized) {
		// The token may have been revoked or expired early (a server restart): log
		// in again once.
		n.forgetToken()
		body, hdr, addr, err = n.nacosCallOnce(ctx, method, path, params)
	}
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
// sent as the JSON body. It checks Polaris' result code (200000 is success).
func (n *Nacos) polarisCall(ctx context.Context, method, path string, query url.Values, jsonBody any, out any) error {
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
		return nil, nil, unreachable(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read answer: %v", err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, resp.Header, &httpError{Status: resp.StatusCode, Body: string(raw)}
	}
	return raw, resp.Header, nil
}

// unreachable rewrites a transport error into words an operator understands.
func unreachable(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("server did not answer in time: %v", err)
	}
	return fmt.Errorf("server unreachable: %v", err)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
