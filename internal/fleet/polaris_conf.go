package fleet

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// polarisPorts are the loopback ports one Polaris listens on.
type polarisPorts struct {
	nacosHTTP int // Nacos v1 HTTP; Nacos v2 gRPC is nacosHTTP+1000
	native    int // Polaris' own HTTP API (api-http)
	grpc      int // Polaris' own gRPC API (service-grpc), which it registers itself with
}

// pickPolarisPorts picks free ports, with a Nacos HTTP port whose +1000 is free too.
func pickPolarisPorts() (polarisPorts, error) {
	var p polarisPorts
	for i := 0; ; i++ {
		port, err := FreePort()
		if err != nil {
			return p, err
		}
		if port+1000 <= 65535 && portFree(port+1000) {
			p.nacosHTTP = port
			break
		}
		if i == 50 {
			return p, fmt.Errorf("found no free port P with P+1000 free after %d tries", i)
		}
	}
	for _, dst := range []*int{&p.native, &p.grpc} {
		for {
			port, err := FreePort()
			if err != nil {
				return p, err
			}
			if port != p.nacosHTTP && port != p.nacosHTTP+1000 && port != p.native {
				*dst = port
				break
			}
		}
	}
	return p, nil
}

// polarisReleaseConf returns the release/conf directory of the pinned Polaris module
// in the module cache.
func polarisReleaseConf() (string, error) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMODCACHE: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)),
		"github.com", "polarismesh", "polaris@"+PolarisVersion, "release", "conf")
	if _, err := os.Stat(filepath.Join(dir, "polaris-server.yaml")); err != nil {
		return "", fmt.Errorf("polaris release conf not in the module cache (run scripts/polaris.sh): %v", err)
	}
	return dir, nil
}

// writePolarisConf copies the release conf into dir/conf, writable, and rewrites
// polaris-server.yaml for the given ports.
func writePolarisConf(dir string, ports polarisPorts, opts PolarisOptions) error {
	src, err := polarisReleaseConf()
	if err != nil {
		return err
	}
	dst := filepath.Join(dir, "conf")
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		return fmt.Errorf("copy polaris conf: %v", err)
	}
	yamlPath := filepath.Join(dst, "polaris-server.yaml")
	b, err := os.ReadFile(yamlPath)
	if err != nil {
		return err
	}
	conf, err := rewritePolarisYAML(string(b), ports, opts)
	if err != nil {
		return err
	}
	return os.WriteFile(yamlPath, []byte(conf), 0o644)
}

// rewritePolarisYAML replaces the apiservers list of the release polaris-server.yaml
// with the three servers nonstop needs on loopback ports, and turns console auth off
// so that the native API answers without a token. Every rewrite must match exactly
// once, so a changed release file fails loudly instead of starting a wrong server.
func rewritePolarisYAML(conf string, ports polarisPorts, opts PolarisOptions) (string, error) {
	// The release file has CRLF line ends.
	conf = strings.ReplaceAll(conf, "\r\n", "\n")
	const startMark, endMark = "\napiservers:\n", "\n# Core logic configuration\n"
	i := strings.Index(conf, startMark)
	j := strings.Index(conf, endMark)
	if i < 0 || j < i {
		return "", fmt.Errorf("polaris-server.yaml: cannot find the apiservers section")
	}
	conf = conf[:i] + "\n" + polarisAPIServers(ports) + conf[j:]

	replace := map[string]string{
		"consoleOpen: true": "consoleOpen: false",
	}
	if opts.ClientAuth {
		replace["clientOpen: false"] = "clientOpen: true"
		replace["clientStrict: false"] = "clientStrict: true"
	}
	for from, to := range replace {
		if n := strings.Count(conf, from); n != 1 {
			return "", fmt.Errorf("polaris-server.yaml: %q occurs %d times, want 1", from, n)
		}
		conf = strings.Replace(conf, from, to, 1)
	}
	return conf, nil
}

// polarisAPIServers renders the apiservers section: Polaris' HTTP API (native
// listing and isolate), its gRPC API (which it registers itself under, for health
// checking) and the Nacos server (v1 HTTP on the port, v2 gRPC on port+1000).
func polarisAPIServers(p polarisPorts) string {
	return fmt.Sprintf(`apiservers:
  - name: api-http
    option:
      listenIP: "127.0.0.1"
      listenPort: %d
      enablePprof: false
      enableSwagger: false
      connLimit:
        openConnLimit: false
      enableCacheProto: false
      sizeCacheProto: 128
    api:
      admin:
        enable: true
      console:
        enable: true
        include: [default, service, config]
      client:
        enable: true
        include: [discover, register, healthcheck, config]
  - name: service-grpc
    option:
      listenIP: "127.0.0.1"
      listenPort: %d
      connLimit:
        openConnLimit: false
      enableCacheProto: true
      sizeCacheProto: 128
    api:
      client:
        enable: true
        include: [discover, register, healthcheck]
  - name: service-nacos
    option:
      listenIP: "127.0.0.1"
      listenPort: %d
      defaultNamespace: default
      connLimit:
        openConnLimit: false
`, p.native, p.grpc, p.nacosHTTP)
}

// portFree reports whether a TCP port on 127.0.0.1 can be bound now.
func portFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
