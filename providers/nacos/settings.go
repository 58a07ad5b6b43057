package nacos

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Flavors of Nacos server.
const (
	FlavorNacos   = "nacos"
	FlavorPolaris = "polaris"
)

// DefaultNamespace is the id of Nacos' default namespace, and the namespace
// attribute's default. The other defaults are in the schema (kind.go).
const DefaultNamespace = "public"

// defaultPolarisPort is the port of Polaris' own HTTP API next to its Nacos port.
const defaultPolarisPort = "8090"

// Config is the decoded provider block.
type Config struct {
	// Addresses are Nacos HTTP addresses, host:port; they are tried in order.
	Addresses []string
	// Namespace is the Nacos namespace id; "public" (or "") is the default one.
	Namespace string
	Username  string
	Password  string
	// Propagation is how long consumers take to drop a disabled instance.
	Propagation time.Duration
	// Flavor is "nacos" or "polaris".
	Flavor string
	// PolarisAddress is Polaris' own HTTP API, host:port (flavor polaris). Default:
	// the host of the first address with port 8090.
	PolarisAddress string
	// Timeout bounds each HTTP request.
	Timeout time.Duration
}

// decodeConfig reads a provider block's evaluated attributes. Missing or null
// attributes take the schema's defaults; unknown attributes are ignored (lang
// validates the schema).
func decodeConfig(attrs map[string]cty.Value) (Config, error) {
	attrs = schema.WithDefaults(attrs)
	var c Config
	var err error
	v, ok := present(attrs, "addresses")
	if !ok {
		return c, fmt.Errorf("addresses is required")
	}
	if c.Addresses, err = stringList("addresses", v); err != nil {
		return c, err
	}
	if len(c.Addresses) == 0 {
		return c, fmt.Errorf("addresses must list at least one host:port")
	}
	for i, a := range c.Addresses {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "http://"), "https://")
		a = strings.TrimSuffix(a, "/nacos")
		if _, _, err := net.SplitHostPort(a); err != nil {
			return c, fmt.Errorf("addresses[%d] %q is not host:port", i, c.Addresses[i])
		}
		c.Addresses[i] = a
	}
	strs := map[string]*string{
		"namespace": &c.Namespace, "username": &c.Username, "password": &c.Password,
		"flavor": &c.Flavor, "polaris_address": &c.PolarisAddress,
	}
	for name, dst := range strs {
		if v, ok := present(attrs, name); ok {
			if *dst, err = stringValue(name, v); err != nil {
				return c, err
			}
		}
	}
	durs := map[string]*time.Duration{"propagation": &c.Propagation, "timeout": &c.Timeout}
	for name, dst := range durs {
		if v, ok := present(attrs, name); ok {
			if *dst, err = durationValue(name, v); err != nil {
				return c, err
			}
		}
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	switch c.Flavor {
	case FlavorNacos, FlavorPolaris:
	default:
		return c, fmt.Errorf("flavor %q is not one of \"nacos\" or \"polaris\"", c.Flavor)
	}
	if c.PolarisAddress == "" && c.Flavor == FlavorPolaris {
		host, _, _ := net.SplitHostPort(c.Addresses[0])
		c.PolarisAddress = net.JoinHostPort(host, defaultPolarisPort)
	}
	c.PolarisAddress = strings.TrimSuffix(strings.TrimPrefix(c.PolarisAddress, "http://"), "/")
	if c.Password != "" && c.Username == "" {
		return c, fmt.Errorf("password is set but username is not")
	}
	return c, nil
}

// present returns a known, non-null attribute.
func present(attrs map[string]cty.Value, name string) (cty.Value, bool) {
	v, ok := attrs[name]
	if !ok || v == cty.NilVal || v.IsNull() {
		return cty.NilVal, false
	}
	return v, true
}

func stringValue(name string, v cty.Value) (string, error) {
	if !v.IsKnown() {
		return "", fmt.Errorf("%s is not known until apply", name)
	}
	if v.Type() != cty.String {
		return "", fmt.Errorf("%s must be a string, not %s", name, v.Type().FriendlyName())
	}
	return v.AsString(), nil
}

func stringList(name string, v cty.Value) ([]string, error) {
	if !v.IsKnown() {
		return nil, fmt.Errorf("%s is not known until apply", name)
	}
	if v.Type() == cty.String {
		return []string{v.AsString()}, nil
	}
	t := v.Type()
	if !t.IsListType() && !t.IsTupleType() && !t.IsSetType() {
		return nil, fmt.Errorf("%s must be a list of strings, not %s", name, t.FriendlyName())
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		s, err := stringValue(fmt.Sprintf("%s[%d]", name, len(out)), e)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// durationValue accepts "30s"-style strings and numbers of seconds.
func durationValue(name string, v cty.Value) (time.Duration, error) {
	if !v.IsKnown() {
		return 0, fmt.Errorf("%s is not known until apply", name)
	}
	if v.Type() == cty.Number {
		f, _ := v.AsBigFloat().Float64()
		if f <= 0 {
			return 0, fmt.Errorf("%s must be positive", name)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	s, err := stringValue(name, v)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q is not a positive duration like \"30s\" or \"5m\"", name, s)
	}
	return d, nil
}
