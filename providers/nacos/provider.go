package nacos

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"

	"github.com/nonstop-release/nonstop/providers"
)

// Nacos is a configured nacos provider.
type Nacos struct {
	name   string
	cfg    Config
	http   *http.Client
	logger hclog.Logger

	// tokenMu guards the cached access token.
	tokenMu     sync.Mutex
	token       string
	tokenExpiry time.Time

	// addrMu guards preferred, the index of the address that last answered.
	addrMu    sync.Mutex
	preferred int

	// configMu guards the lazily created gRPC config client (CAS publishes).
	configMu     sync.Mutex
	configClient config_client.IConfigClient

	// groupMu guards the instance writes waiting for the next group (queue)
	// and whether a write sends one (see groupPolarisWrite).
	groupMu sync.Mutex
	queue   []polarisWrite
	leading bool

	// readsMu guards reads, the newest listing per service that writes waiting
	// for a read to show them share (see confirm).
	readsMu sync.Mutex
	reads   map[providers.ServiceKey]*serviceRead
}

// New configures a nacos provider from its block's attributes. It does not contact
// the server: the first call does (and logs in when a username is set).
func New(s providers.Settings) (providers.Provider, error) {
	cfg, err := decodeConfig(s.Attrs)
	if err != nil {
		return nil, fmt.Errorf("nacos.%s: %v", s.Name, err)
	}
	return NewWithConfig(s.Name, cfg, s.Logger), nil
}

// NewWithConfig builds a provider from a decoded Config.
func NewWithConfig(name string, cfg Config, logger hclog.Logger) *Nacos {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultDuration("timeout")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 32
	return &Nacos{
		name:   name,
		cfg:    cfg,
		http:   &http.Client{Timeout: cfg.Timeout, Transport: transport},
		logger: logger.Named("nacos." + name),
	}
}

// Kind returns "nacos".
func (n *Nacos) Kind() string { return "nacos" }

// Name returns the provider's name.
func (n *Nacos) Name() string { return n.name }

// Config returns the decoded settings (the password included: do not print it).
func (n *Nacos) Config() Config { return n.cfg }

// Propagation returns how long consumers take to drop a disabled instance.
func (n *Nacos) Propagation() time.Duration { return n.cfg.Propagation }

// Close releases idle connections and the config client, if one was made.
func (n *Nacos) Close() error {
	n.http.CloseIdleConnections()
	n.configMu.Lock()
	defer n.configMu.Unlock()
	if n.configClient != nil {
		n.configClient.CloseClient()
		n.configClient = nil
	}
	return nil
}

// ref is the provider's reference, "nacos.prod", with which errors start.
func (n *Nacos) ref() string { return "nacos." + n.name }

// nacosNamespace is the namespace id sent to the Nacos naming API; public is sent
// as "public", which Nacos 2.x and Polaris both accept.
func (n *Nacos) nacosNamespace() string {
	if n.cfg.Namespace == "" {
		return DefaultNamespace
	}
	return n.cfg.Namespace
}

// polarisNamespace maps the Nacos namespace to Polaris': public is "default".
func (n *Nacos) polarisNamespace() string {
	if n.cfg.Namespace == "" || n.cfg.Namespace == DefaultNamespace {
		return "default"
	}
	return n.cfg.Namespace
}

var (
	_ providers.Registry    = (*Nacos)(nil)
	_ providers.ConfigStore = (*Nacos)(nil)
	_ providers.Closer      = (*Nacos)(nil)
)
