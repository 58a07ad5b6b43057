package demo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// ConfigFile is the name of the configuration file WriteConfig writes.
const ConfigFile = "main.ns.hcl"

// Config describes a demo configuration: one service in groups a and b behind an
// nginx pool and an HAProxy backend, registered in Polaris through the Nacos API,
// deployed by deploy.sh (copied next to the configuration).
type Config struct {
	Service string
	Version string
	// Nacos and PolarisNative are the registry's Nacos HTTP and native API addresses.
	Nacos, PolarisNative string
	// UpstreamsFile, NginxTest and NginxReload configure the nginx provider.
	UpstreamsFile          string
	NginxTest, NginxReload []string
	// RuntimeAPI is HAProxy's runtime API ("unix://..." or "tcp://...").
	RuntimeAPI string
	// Pool is the nginx upstream and the HAProxy backend.
	Pool           string
	GroupA, GroupB []string
	// Strategy is the strategy block, e.g. `strategy "rolling" { batch = "group" }`.
	Strategy string
	// Extra is HCL placed inside the service block (analysis blocks).
	Extra string
	// HealthTimeout bounds the health wait of a deployed instance ("20s" when empty).
	HealthTimeout string
	// MinAvailable is the service's min_available (1 when zero).
	MinAvailable int
	// OnFailure is the service's on_failure ("rollback" when empty).
	OnFailure string
	// DeployEnv adds entries to the deploy block's env (they win over nonstop's
	// own, e.g. NONSTOP_REGISTER_ENABLED).
	DeployEnv map[string]string
	// FleetDir, DemoBin and BadVersions are passed to deploy.sh.
	FleetDir, DemoBin, BadVersions string
	// HangVersions are versions whose deploy stops the old instance and then hangs
	// (deploy.sh's NONSTOP_DEMO_HANG_VERSIONS); DeployTimeout bounds the deploy
	// ("1m" when empty).
	HangVersions, DeployTimeout string
	// LongLived marks the HAProxy balancer `long_lived = true` (websockets): a
	// drain waits for the member's sessions up to DrainTimeout, then closes them.
	LongLived bool
	// DrainTimeout is drain.timeout ("10s" when empty).
	DrainTimeout string
}

var configTemplate = template.Must(template.New("config").Funcs(template.FuncMap{
	"list": hclList,
}).Parse(`# Written by internal/demo: one service released with zero downtime on a loopback fleet.
nonstop {
  state "local" { path = ".nonstop" }
}

provider "nacos" "registry" {
  addresses       = [{{printf "%q" .Nacos}}]
  polaris_address = {{printf "%q" .PolarisNative}}
  namespace       = "public"
  flavor          = "polaris"
  propagation     = "4s"
}

provider "nginx" "edge" {
  upstreams_file = {{printf "%q" .UpstreamsFile}}
  test           = {{list .NginxTest}}
  reload         = {{list .NginxReload}}
}

provider "haproxy" "lb" {
  runtime_api = {{printf "%q" .RuntimeAPI}}
}

service {{printf "%q" .Service}} {
  version = {{printf "%q" .Version}}

  registry {
    provider = nacos.registry
    group    = "DEFAULT_GROUP"
    cluster  = "DEFAULT"
  }

  group "a" { instances = {{list .GroupA}} }
  group "b" { instances = {{list .GroupB}} }

  balancer "nginx" {
    provider = nginx.edge
    pool     = {{printf "%q" .Pool}}
    weight   = 1
  }

  balancer "haproxy" {
    provider = haproxy.lb
    pool     = {{printf "%q" .Pool}}
    weight   = 1
{{- if .LongLived}}
    long_lived = true
{{- end}}
  }

  min_available = {{if .MinAvailable}}{{.MinAvailable}}{{else}}1{{end}}

  {{.Strategy}}

  drain {
    propagation = "4s"
    timeout     = {{if .DrainTimeout}}{{printf "%q" .DrainTimeout}}{{else}}"10s"{{end}}
  }

  deploy {
    command = ["bash", "./deploy.sh", instance.host, tostring(instance.port), version]
    env = {
      SERVICE                   = service.name
      NONSTOP_DEMO_DIR          = {{printf "%q" .FleetDir}}
      NONSTOP_DEMO_BIN          = {{printf "%q" .DemoBin}}
      NONSTOP_DEMO_NACOS        = {{printf "%q" .Nacos}}
      NONSTOP_DEMO_BAD_VERSIONS = {{printf "%q" .BadVersions}}
{{- if .HangVersions}}
      NONSTOP_DEMO_HANG_VERSIONS = {{printf "%q" .HangVersions}}
{{- end}}
{{- range $k, $v := .DeployEnv}}
      {{$k}} = {{printf "%q" $v}}
{{- end}}
    }
    timeout = {{printf "%q" .DeployTimeout}}
  }

  health {
    http     = "http://${instance.address}/health"
    expect   = 200
    interval = "250ms"
    timeout  = {{printf "%q" .HealthTimeout}}
  }

  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }
{{.Extra}}
  on_failure = {{if .OnFailure}}{{printf "%q" .OnFailure}}{{else}}"rollback"{{end}}
}
`))

// hclList renders a list of strings as an HCL tuple.
func hclList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// Render returns the configuration's HCL text.
func (c Config) Render() ([]byte, error) {
	if c.HealthTimeout == "" {
		c.HealthTimeout = "20s"
	}
	if c.DeployTimeout == "" {
		c.DeployTimeout = "1m"
	}
	var b bytes.Buffer
	if err := configTemplate.Execute(&b, c); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteConfig writes the configuration to dir/main.ns.hcl and copies the deploy
// script from deployScript to dir/deploy.sh.
func (c Config) WriteConfig(dir, deployScript string) error {
	text, err := c.Render()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), text, 0o644); err != nil {
		return err
	}
	script, err := os.ReadFile(deployScript)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "deploy.sh"), script, 0o755)
}
