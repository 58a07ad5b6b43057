package aliyun

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

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkcredentials "github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/providers/retry"
)

// requestTimeout is the default of the timeout attribute: it bounds one try of
// an API request (connecting, sending, reading the answer), unless the caller's
// context ends first.
const requestTimeout = 30 * time.Second

// Retries. Every action the providers call is safe to repeat: reads (Describe*,
// List*, Get*), SetVServerGroupAttribute (which sets weights whole) and
// UpdateServerGroupServersAttribute (whose ClientToken, the same on every try,
// makes the API apply it once). A call is tried up to callAttempts times, with a
// pause of callBackoff doubling after each, while it fails in a way worth
// repeating: the connection was refused or dropped, or the API throttled it or
// said it is unavailable (Code Throttling*, ServiceUnavailable, or HTTP 429 or
// 503). An error page of a gateway in front of the API (502, no Code) is
// reported at once. A try that ran out of time is not repeated: an endpoint
// that does not answer fails the call after the timeout, naming the endpoint
// and the bound. The SDK's own AutoRetry stays off: it repeats at once, without
// a pause, after any transport error (timeouts included, which would multiply
// the bound) and any 5xx, and never after throttling (HTTP 400 Throttling.*).
const (
	callAttempts = 3
	callBackoff  = 500 * time.Millisecond
)

// maxBody bounds how much of an answer is read.
const maxBody = 8 << 20

// rpcClient calls one Alibaba Cloud product's RPC-style API (SLB 2014-05-15, ALB
// 2020-06-16) through the official v1 SDK, github.com/aliyun/alibaba-cloud-sdk-go:
// the SDK's request types (services/slb, services/alb) name the parameters, the
// SDK signs with signature version 1.0 (HMAC-SHA1) and sends every parameter in
// the query string of a POST to "/". Each try gets its own SDK client, bound to
// the caller's context through the transport and signed with the key the
// credential source gives for that try; the SDK client keeps per-request
// settings in shared fields, so one shared client would race between parallel
// steps.
type rpcClient struct {
	endpoint  *url.URL // scheme://host[:port]
	region    string
	creds     *credentialSource
	transport *http.Transport // shared; dials bounded by timeout
	timeout   time.Duration   // one try
	backoff   time.Duration   // the first pause between tries
	logger    hclog.Logger
}

// newTransport is the HTTP transport of a provider: the proxy from the
// environment, connecting and the TLS handshake bounded by timeout.
func newTransport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = timeout
	return t
}

// boundTransport sends the SDK's requests with the context of the try, which the
// SDK (it builds requests without one) cannot pass, and bounds the answers read.
type boundTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

// RoundTrip sends r under t's context.
func (t boundTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r.WithContext(t.ctx))
	if err != nil {
		return nil, err
	}
	resp.Body = limitedBody{io.LimitReader(resp.Body, maxBody), resp.Body}
	return resp, nil
}

// limitedBody reads at most maxBody bytes of an answer and closes it.
type limitedBody struct {
	io.Reader
	io.Closer
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
func (e *APIError) Error() string { return e.Action + ": " + e.detail() }

// detail is the error without its action.
func (e *APIError) detail() string {
	var b strings.Builder
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

// call sends the request build makes and decodes the JSON answer into out,
// retrying as the const block above says. Each try builds and signs the request
// anew (its own nonce and timestamp); build must give the same parameters every
// time (an idempotency token included).
func (c *rpcClient) call(ctx context.Context, build func() requests.AcsRequest, out any) error {
	tries, start, action := 0, time.Now(), ""
	err := retry.Policy{Attempts: callAttempts, Backoff: c.backoff}.Do(ctx, func() error {
		tries++
		req := build()
		action = req.GetActionName()
		return c.callOnce(ctx, req, out)
	}, retryable, func(err error) {
		c.logger.Debug("retrying", "action", action, "endpoint", c.endpoint.String(), "try", tries, "error", err)
	})
	if err != nil && tries >= callAttempts && retryable(err) {
		return &exhaustedError{action: action, endpoint: c.endpoint.String(), tries: tries, took: time.Since(start), err: err}
	}
	return err
}

// exhaustedError is a call that failed in a way worth repeating on every try.
type exhaustedError struct {
	action, endpoint string
	tries            int
	took             time.Duration
	err              error
}

func (e *exhaustedError) Error() string {
	last := e.err.Error()
	var ae *APIError
	var te *transportError
	switch {
	case errors.As(e.err, &ae):
		last = ae.detail()
	case errors.As(e.err, &te):
		last = te.err.Error()
	}
	return fmt.Sprintf("%s at %s: gave up after %d tries in %s (the retry bound): %s",
		e.action, e.endpoint, e.tries, e.took.Round(time.Millisecond), last)
}

func (e *exhaustedError) Unwrap() error { return e.err }

// bound is how long one try may take.
func (c *rpcClient) bound() time.Duration {
	if c.timeout <= 0 {
		return requestTimeout
	}
	return c.timeout
}

// callOnce is one try of call.
func (c *rpcClient) callOnce(parent context.Context, req requests.AcsRequest, out any) error {
	action := req.GetActionName()
	key, err := c.creds.get()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(parent, c.bound())
	defer cancel()
	client, err := c.sdkClient(ctx, key)
	if err != nil {
		return fmt.Errorf("%s: %v", action, err)
	}
	req.SetDomain(c.endpoint.Host)
	req.SetScheme(strings.ToUpper(c.endpoint.Scheme))
	req.GetHeaders()["Accept"] = "application/json"
	resp := responses.NewCommonResponse()
	if err := client.DoAction(req, resp); err != nil {
		var se *sdkerrors.ServerError
		if errors.As(err, &se) && resp.GetHttpStatus() != 0 {
			return decodeError(action, resp.GetHttpStatus(), resp.GetHttpContentBytes(), key)
		}
		return c.transportErr(parent, action, err, key)
	}
	if err := json.Unmarshal(resp.GetHttpContentBytes(), out); err != nil {
		return fmt.Errorf("%s: the answer is not the documented JSON: %v", action, err)
	}
	return nil
}

// sdkClient is an SDK client for one try: no retries of its own, the try's
// bound as its connect and read timeouts, the try's context on every request,
// and the try's key.
func (c *rpcClient) sdkClient(ctx context.Context, key accessKey) (*sdk.Client, error) {
	cfg := sdk.NewConfig().WithAutoRetry(false).WithUserAgent("nonstop")
	cfg.Transport = boundTransport{ctx: ctx, base: c.transport}
	client, err := sdk.NewClientWithOptions(c.region, cfg, keyProvider(key))
	if err != nil {
		return nil, err
	}
	client.SetConnectTimeout(c.bound())
	client.SetReadTimeout(c.bound())
	return client, nil
}

// keyProvider hands the SDK the key of one try; the SDK sends its source as
// x-acs-credentials-provider.
type keyProvider accessKey

// GetCredentials returns the key.
func (k keyProvider) GetCredentials() (*sdkcredentials.Credentials, error) {
	return &sdkcredentials.Credentials{AccessKeyId: k.id, AccessKeySecret: k.secret, SecurityToken: k.token, ProviderName: k.source}, nil
}

// GetProviderName returns where the key came from.
func (k keyProvider) GetProviderName() string { return k.source }

// transportError is a request that got no answer. Its message names the
// action and the endpoint (never the signed query, which holds the AccessKey
// ID and the security token).
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

// transportErr classifies a failed request. The *url.Error the HTTP client
// returns quotes the URL, the signed query with it, so only its cause is kept;
// key's values are scrubbed from whatever remains.
func (c *rpcClient) transportErr(parent context.Context, action string, err error, key accessKey) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	te := &transportError{action: action, endpoint: c.endpoint.String(), err: err, bound: c.bound()}
	if s := key.scrub(err.Error()); s != err.Error() {
		te.err = scrubbedError{s, err}
	}
	var ne net.Error
	switch {
	case parent.Err() != nil:
		te.stopped = true
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		te.timeout = true
	}
	return te
}

// scrubbedError is an error whose text had credentials removed.
type scrubbedError struct {
	msg string
	err error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.err }

// retryable reports whether a failed try is worth repeating.
func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return strings.HasPrefix(ae.Code, "Throttling") || ae.Code == "ServiceUnavailable" ||
			(ae.Code == "" && (ae.HTTPStatus == http.StatusTooManyRequests || ae.HTTPStatus == http.StatusServiceUnavailable))
	}
	var te *transportError
	return errors.As(err, &te) && !te.timeout && !te.stopped && retry.ConnectionFailed(te.err)
}

// decodeError turns an error answer into an *APIError; a body that is not the
// documented JSON (a proxy's HTML page) is quoted by its first line. The key the
// request was signed with is scrubbed from the message: SignatureDoesNotMatch
// quotes the string the service signed.
func decodeError(action string, status int, body []byte, key accessKey) error {
	e := &APIError{Action: action, HTTPStatus: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && (eb.Code != "" || eb.Message != "") {
		e.Code, e.Message, e.RequestID = eb.Code, key.scrub(eb.Message), eb.RequestID
		return e
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	if line != "" {
		e.Message = key.scrub(fmt.Sprintf("HTTP %d: %s", status, line))
	}
	return e
}
