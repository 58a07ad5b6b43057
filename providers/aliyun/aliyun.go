package aliyun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers"
)

// Environment variables read when only one of access_key_id and
// access_key_secret is set, as before the default credential chain: the other
// half of the AccessKey.
const (
	envKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	envKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
)

// settings are the decoded attributes of an aliyun_slb or aliyun_alb block.
type settings struct {
	region        string
	keyID         string
	keySecret     string
	securityToken string
	endpoint      string
	timeout       time.Duration
}

// decodeSettings reads region (required), access_key_id, access_key_secret,
// security_token, endpoint (optional override, "https://host[:port]") and
// timeout. It looks up no credentials: with no AccessKey in the block, the
// default credential chain is asked when the provider first calls the API
// (newCredentials).
func decodeSettings(kind string, s providers.Settings) (settings, error) {
	var st settings
	for k, v := range schema.WithDefaults(s.Attrs) {
		var err error
		switch k {
		case "region":
			st.region, err = stringAttr(v)
		case "access_key_id":
			st.keyID, err = stringAttr(v)
		case "access_key_secret":
			st.keySecret, err = stringAttr(v)
		case "security_token":
			st.securityToken, err = stringAttr(v)
		case "endpoint":
			st.endpoint, err = stringAttr(v)
		case "timeout":
			var d string
			if d, err = stringAttr(v); err == nil {
				st.timeout, err = time.ParseDuration(d)
				if err == nil && st.timeout <= 0 {
					err = fmt.Errorf("must be positive")
				}
			}
		default:
			err = fmt.Errorf("unknown attribute")
		}
		if err != nil {
			return st, fmt.Errorf("%s.%s: %s: %v", kind, s.Name, k, err)
		}
	}
	if st.region == "" {
		return st, fmt.Errorf("%s.%s: region is required (a region ID such as \"cn-shanghai\")", kind, s.Name)
	}
	if (st.keyID == "") != (st.keySecret == "") {
		// Half an AccessKey in the block: the other half from the environment,
		// as nonstop has always done.
		if st.keyID == "" {
			st.keyID = os.Getenv(envKeyID)
		}
		if st.keySecret == "" {
			st.keySecret = os.Getenv(envKeySecret)
		}
		if st.keyID == "" || st.keySecret == "" {
			return st, fmt.Errorf("%s.%s: access_key_id and access_key_secret go together (or set neither and let the default credential chain find them): one is set, the other is empty and %s / %s is not in the environment",
				kind, s.Name, envKeyID, envKeySecret)
		}
	}
	if st.securityToken != "" && st.keyID == "" {
		return st, fmt.Errorf("%s.%s: security_token is the STS token of an AccessKey: set access_key_id and access_key_secret with it", kind, s.Name)
	}
	return st, nil
}

// newRPC builds the API client of a provider; defaultEndpoint is used when the
// endpoint attribute is empty.
func newRPC(kind, name string, st settings, defaultEndpoint string, log hclog.Logger) (*rpcClient, error) {
	raw := st.endpoint
	if raw == "" {
		raw = defaultEndpoint
	}
	u, err := parseEndpoint(raw)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: endpoint: %v", kind, name, err)
	}
	timeout := st.timeout
	if timeout <= 0 {
		timeout = requestTimeout
	}
	return &rpcClient{
		endpoint:  u,
		region:    st.region,
		creds:     newCredentials(st),
		transport: newTransport(timeout),
		timeout:   timeout,
		backoff:   callBackoff,
		logger:    log,
	}, nil
}

// parseEndpoint checks an endpoint URL: http or https, a host, no path or query.
func parseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%q must be an http:// or https:// URL with a host", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q must be the endpoint address only, like https://slb.aliyuncs.com", raw)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// logger returns the settings' logger or a null one.
func logger(s providers.Settings) hclog.Logger {
	if s.Logger == nil {
		return hclog.NewNullLogger()
	}
	return s.Logger
}

// stringAttr decodes a string attribute.
func stringAttr(v cty.Value) (string, error) {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return "", fmt.Errorf("must be a string")
	}
	return v.AsString(), nil
}

// splitAddress splits a member address "ip:port" into its parts.
func splitAddress(address string) (string, int, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, fmt.Errorf("address %q is not host:port", address)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return "", 0, fmt.Errorf("address %q has no valid port", address)
	}
	return host, p, nil
}

// joinAddress formats an IP and port as a member address.
func joinAddress(ip string, port int) string {
	return net.JoinHostPort(ip, strconv.Itoa(port))
}

// checkWeight refuses weights SLB and ALB cannot express (both take 0 to 100).
func checkWeight(weight int) error {
	if weight < 0 || weight > 100 {
		return fmt.Errorf("weight %d cannot be expressed: Alibaba Cloud server weights go from 0 to 100", weight)
	}
	return nil
}

// flexInt is an integer the API sends either as a JSON number or as a quoted
// string: older SLB answers quote Port and Weight ("Port": "80").
type flexInt int

// UnmarshalJSON accepts 80 and "80".
func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	v, err := strconv.Atoi(string(b))
	if err != nil {
		return fmt.Errorf("%q is not an integer", b)
	}
	*n = flexInt(v)
	return nil
}

// weightState is the state a weight reads back as: SLB and ALB have no
// administrative state, so weight 0 (no new requests) is drain.
func weightState(weight int) providers.MemberState {
	if weight == 0 {
		return providers.StateDrain
	}
	return providers.StateReady
}

// stateWeight decides how a state is expressed on a member whose weight is
// current: drain and maint are weight 0 (change is false when it already is);
// ready keeps a non-zero weight and is an error on weight 0, since neither SLB nor
// ALB remembers the weight a member had; down cannot be expressed at all.
func stateWeight(current int, state providers.MemberState) (weight int, change bool, err error) {
	switch state {
	case providers.StateDrain, providers.StateMaint:
		return 0, current != 0, nil
	case providers.StateReady:
		if current == 0 {
			return 0, false, fmt.Errorf("cannot make it ready: its weight is 0 and the load balancer has no administrative state to restore a weight from; set a weight from 1 to 100 instead")
		}
		return current, false, nil
	case providers.StateDown:
		return 0, false, fmt.Errorf("the load balancer cannot force a server down (only its health check marks servers unhealthy); use drain or maint, which set weight 0")
	}
	return 0, false, fmt.Errorf("unknown state %q", state)
}
