package aliyun

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what signature version 1.0 prescribes
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/providers/retry"
)

// requestTimeout bounds one try of an API request (connecting, sending, reading
// the answer), unless the caller's context ends first.
const requestTimeout = 30 * time.Second

// Retries. Every action the providers call is safe to repeat: reads (Describe*,
// List*, Get*), SetVServerGroupAttribute (which sets weights whole) and
// UpdateServerGroupServersAttribute (whose ClientToken, the same on every try,
// makes the API apply it once). A call is tried up to callAttempts times, with a
// pause of callBackoff doubling after each, while it fails in a way worth
// repeating: the connection was refused or dropped, or the API throttled it or
// said it is unavailable (Code Throttling*, ServiceUnavailable). An error page
// of a gateway in front of the API (no Code) is reported at once.
// A try that ran out of time is not repeated: an endpoint that does not answer
// fails the call after the request timeout, naming the endpoint and the bound.
const (
	callAttempts = 3
	callBackoff  = 500 * time.Millisecond
)

// maxBody bounds how much of an answer is read.
const maxBody = 8 << 20

// rpcClient calls one Alibaba Cloud product's RPC-style API (SLB 2014-05-15, ALB
// 2020-06-16) with signature version 1.0 (HMAC-SHA1), as documented at
// https://help.aliyun.com/document_detail/28839.html ("签名机制"). Every parameter,
// the signature included, travels in the query string of a POST to "/", which is
// what the official darabonba-openapi SDK sends for RPC operations.
type rpcClient struct {
	endpoint  *url.URL // scheme://host[:port]
	version   string   // API version: "2014-05-15"
	keyID     string
	keySecret string
	http      *http.Client
	now       func() time.Time
	nonce     func() string
	// timeout bounds one try; 0 means requestTimeout.
	timeout time.Duration
}

// APIError is an error answer of the Alibaba Cloud API: the HTTP status and the
// JSON body's Code, Message and RequestId.
type APIError struct {
	Action     string
	HTTPStatus int
	Code       string
	Message    string
	RequestID  string
}

// Error describes the failure with the API's own code and message.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", e.Action)
	if e.Code != "" {
		fmt.Fprintf(&b, "%s: ", e.Code)
	}
	if e.Message != "" {
		b.WriteString(e.Message)
	} else {
		fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// errorBody is the documented shape of an error answer, e.g.
// {"RequestId":"…","HostId":"slb.aliyuncs.com","Code":"InvalidParameter","Message":"…","Recommend":"…"}.
type errorBody struct {
	RequestID string `json:"RequestId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
}

// call runs one action with its parameters and decodes the JSON answer into out,
// retrying as the const block above says. Each try is signed anew (its own
// nonce and timestamp).
func (c *rpcClient) call(ctx context.Context, action string, params url.Values, out any) error {
	return retry.Policy{Attempts: callAttempts, Backoff: callBackoff}.Do(ctx,
		func() error { return c.callOnce(ctx, action, params, out) }, retryable, nil)
}

// bound is how long one try may take.
func (c *rpcClient) bound() time.Duration {
	if c.timeout <= 0 {
		return requestTimeout
	}
	return c.timeout
}

// callOnce is one try of call.
func (c *rpcClient) callOnce(parent context.Context, action string, params url.Values, out any) error {
	ctx, cancel := context.WithTimeout(parent, c.bound())
	defer cancel()
	q := c.signedQuery(http.MethodPost, action, params)
	u := *c.endpoint
	u.Path = "/"
	u.RawQuery = q
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return fmt.Errorf("%s: %v", action, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "nonstop")
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportErr(parent, action, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", c.transportErr(parent, action, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(action, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: the answer is not the documented JSON: %v", action, err)
	}
	return nil
}

// transportError is a request that got no answer. Its message names the
// action and the endpoint (never the signed query, which holds the AccessKey
// ID).
type transportError struct {
	action, endpoint string
	err              error
	bound            time.Duration
	timeout          bool // the try ran out of its bound
	stopped          bool // the caller's context ended
}

func (e *transportError) Error() string {
	switch {
	case e.stopped:
		return fmt.Sprintf("%s at %s: no answer before the call was stopped: %v", e.action, e.endpoint, e.err)
	case e.timeout:
		return fmt.Sprintf("%s at %s: no answer within %s (the request timeout): %v", e.action, e.endpoint, e.bound, e.err)
	}
	return fmt.Sprintf("%s at %s: %v", e.action, e.endpoint, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

func (c *rpcClient) transportErr(parent context.Context, action string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	te := &transportError{action: action, endpoint: c.endpoint.String(), err: err, bound: c.bound()}
	var ne net.Error
	switch {
	case parent.Err() != nil:
		te.stopped = true
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		te.timeout = true
	}
	return te
}

// retryable reports whether a failed try is worth repeating.
func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return strings.HasPrefix(ae.Code, "Throttling") || ae.Code == "ServiceUnavailable"
	}
	var te *transportError
	return errors.As(err, &te) && !te.timeout && !te.stopped && retry.ConnectionFailed(te.err)
}

// decodeError turns an error answer into an *APIError; a body that is not the
// documented JSON (a proxy's HTML page) is quoted by its first line.
func decodeError(action string, status int, body []byte) error {
	e := &APIError{Action: action, HTTPStatus: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && (eb.Code != "" || eb.Message != "") {
		e.Code, e.Message, e.RequestID = eb.Code, eb.Message, eb.RequestID
		return e
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	if line != "" {
		e.Message = fmt.Sprintf("HTTP %d: %s", status, line)
	}
	return e
}

// signedQuery returns the canonical query of an action, common parameters and
// Signature included.
func (c *rpcClient) signedQuery(method, action string, params url.Values) string {
	all := url.Values{}
	for k, vs := range params {
		all[k] = append([]string(nil), vs...)
	}
	all.Set("Action", action)
	all.Set("Format", "JSON")
	all.Set("Version", c.version)
	all.Set("AccessKeyId", c.keyID)
	all.Set("SignatureMethod", "HMAC-SHA1")
	all.Set("SignatureVersion", "1.0")
	all.Set("SignatureNonce", c.nonce())
	all.Set("Timestamp", c.now().UTC().Format("2006-01-02T15:04:05Z"))
	canonical := canonicalQuery(all)
	sig := rpcSignature(method, canonical, c.keySecret)
	return canonical + "&Signature=" + percentEncode(sig)
}

// canonicalQuery sorts the parameters by name and joins their percent-encoded
// names and values.
func canonicalQuery(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, val := range v[k] {
			parts = append(parts, percentEncode(k)+"="+percentEncode(val))
		}
	}
	return strings.Join(parts, "&")
}

// rpcSignature is Base64(HMAC-SHA1(secret + "&", METHOD + "&%2F&" +
// percentEncode(canonicalQuery))).
func rpcSignature(method, canonical, secret string) string {
	stringToSign := method + "&" + percentEncode("/") + "&" + percentEncode(canonical)
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// percentEncode is RFC 3986 encoding as the signature document prescribes: only
// A-Z, a-z, 0-9, '-', '_', '.' and '~' stay as they are; a space is %20.
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ('A' <= ch && ch <= 'Z') || ('a' <= ch && ch <= 'z') || ('0' <= ch && ch <= '9') ||
			ch == '-' || ch == '_' || ch == '.' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[ch>>4])
		b.WriteByte(hexDigits[ch&15])
	}
	return b.String()
}

// randomToken returns a random version-4 UUID, used as SignatureNonce and
// ClientToken.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
