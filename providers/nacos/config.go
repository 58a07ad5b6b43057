package nacos

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/nonstop-release/nonstop/providers"
)

// Configuration documents go through the Nacos HTTP API (/nacos/v1/cs/configs),
// except compare-and-swap publishes, which go through nacos-sdk-go's config client
// over gRPC (see configcas.go): Polaris' HTTP handler never reads casMd5, so a CAS
// publish over HTTP would silently overwrite there.
//
// What Polaris v1.18.1 honours, and the tests check: a plain publish (visible to
// GetConfig after about a second, its config cache being eventually consistent), a
// CAS publish of an absent document (created), a CAS publish with a stale MD5
// (ErrConflict), delete. What it does not: a CAS publish with the right MD5 of an
// existing document is refused as a conflict too (its Nacos bridge never passes the
// MD5 on), so a successful CAS update is untested here and only real Nacos 2.x
// provides it.

const defaultConfigGroup = "DEFAULT_GROUP"

// GetConfig returns a document's content and the MD5 hex of it; found is false when
// the server answers 404.
func (n *Nacos) GetConfig(ctx context.Context, key providers.ConfigKey) (string, string, bool, error) {
	key = normalizeConfigKey(key)
	raw, _, addr, err := n.nacosCall(ctx, http.MethodGet, "/nacos/v1/cs/configs", n.configParams(key))
	if statusOf(err) == http.StatusNotFound {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, n.configErr("read", key, addr, err)
	}
	content := string(raw)
	return content, contentMD5(content), true, nil
}

// PublishConfig writes a document. With casMD5 == "" it writes whatever is there.
// With casMD5 != "" it creates the document when absent and otherwise replaces it
// only if the stored content's MD5 is casMD5; it returns an error wrapping
// providers.ErrConflict when it is not.
func (n *Nacos) PublishConfig(ctx context.Context, key providers.ConfigKey, content, casMD5 string) error {
	key = normalizeConfigKey(key)
	if content == "" {
		return n.configErr("publish", key, n.cfg.Addresses[0], fmt.Errorf("nacos cannot store empty content"))
	}
	if casMD5 != "" {
		return n.publishCAS(ctx, key, content, casMD5)
	}
	params := n.configParams(key)
	params.Set("content", content)
	raw, _, addr, err := n.nacosCall(ctx, http.MethodPost, "/nacos/v1/cs/configs", params)
	if err != nil {
		return n.configErr("publish", key, addr, err)
	}
	if strings.TrimSpace(string(raw)) != "true" {
		return n.configErr("publish", key, addr, fmt.Errorf("server answered %.200q", raw))
	}
	return nil
}

// AtomicConfigUpdates reports whether a compare-and-swap publish of an existing
// document is atomic on the server: with flavor nacos (Nacos 2.x honours CasMd5),
// not with flavor polaris (it refuses every CAS update; see configcas.go).
func (n *Nacos) AtomicConfigUpdates() bool { return n.cfg.Flavor != FlavorPolaris }

// DeleteConfig removes a document. Removing an absent document is not an error.
func (n *Nacos) DeleteConfig(ctx context.Context, key providers.ConfigKey) error {
	key = normalizeConfigKey(key)
	raw, _, addr, err := n.nacosCall(ctx, http.MethodDelete, "/nacos/v1/cs/configs", n.configParams(key))
	if err != nil {
		return n.configErr("delete", key, addr, err)
	}
	if strings.TrimSpace(string(raw)) != "true" {
		return n.configErr("delete", key, addr, fmt.Errorf("server answered %.200q", raw))
	}
	return nil
}

// configParams identifies a document; tenant is the namespace id, absent for public.
func (n *Nacos) configParams(key providers.ConfigKey) url.Values {
	v := url.Values{"dataId": {key.DataID}, "group": {key.Group}}
	if ns := n.cfg.Namespace; ns != "" && ns != DefaultNamespace {
		v.Set("tenant", ns)
	}
	return v
}

func normalizeConfigKey(key providers.ConfigKey) providers.ConfigKey {
	if key.Group == "" {
		key.Group = defaultConfigGroup
	}
	return key
}

// contentMD5 is the MD5 hex Nacos computes for content.
func contentMD5(content string) string {
	sum := md5.Sum([]byte(content))
	return hex.EncodeToString(sum[:])
}

// configErr names the provider, the operation, the document and the address.
func (n *Nacos) configErr(op string, key providers.ConfigKey, addr string, err error) error {
	return fmt.Errorf("%s: %s config %s (group %s, namespace %s) at %s: %w",
		n.ref(), op, key.DataID, key.Group, n.nacosNamespace(), addr, err)
}

var (
	_ providers.ConfigStore        = (*Nacos)(nil)
	_ providers.AtomicConfigWriter = (*Nacos)(nil)
)
