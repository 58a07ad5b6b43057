package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// fleetVars are the running fleet's addresses and paths, the values of
// examples/demo's variables.
type fleetVars struct {
	reg   *fleet.Polaris
	ngx   *fleet.Nginx
	hap   *fleet.HAProxy
	fleet *fleet.DemoFleet
	addrs []string
}

// writeConfig copies examples/demo (main.ns.hcl and deploy.sh) into dir and
// writes the fleet's values next to it as a -var-file, whose path it returns.
func writeConfig(dir string, v fleetVars) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	src := filepath.Join(filepath.Dir(v.fleet.Script))
	for _, name := range []string{"main.ns.hcl", "deploy.sh"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			return "", err
		}
	}
	vars := fmt.Sprintf(`nacos          = %q
polaris        = %q
upstreams_file = %q
nginx_test     = %s
nginx_reload   = %s
haproxy_api    = %q
group_a        = %s
group_b        = %s
fleet_dir      = %q
demo_bin       = %q
`, v.reg.NacosAddr, v.reg.NativeAddr, v.ngx.UpstreamsFile, list(v.ngx.Command("-t")),
		list(v.ngx.Command("-s", "reload")), v.hap.TCPURL(), list(v.addrs[:2]), list(v.addrs[2:]),
		v.fleet.Dir, v.fleet.Bin)
	path := filepath.Join(dir, "fleet.nsvars")
	return path, os.WriteFile(path, []byte(vars), 0o644)
}

func list(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// freeAddrs returns n free loopback addresses.
func freeAddrs(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		port, err := fleet.FreePort()
		if err != nil {
			return nil, err
		}
		out[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	return out, nil
}
