package nacos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// loginAnswer is the body of a successful POST /nacos/v1/auth/login.
type loginAnswer struct {
	AccessToken string `json:"accessToken"`
	TokenTTL    int64  `json:"tokenTtl"` // seconds
}

// accessToken returns a valid access token, logging in when none is cached or the
// cached one is within a tenth of its lifetime (at least 5 s) of expiring.
func (n *Nacos) accessToken(ctx context.Context) (string, error) {
	n.tokenMu.Lock()
	defer n.tokenMu.Unlock()
	if n.token != "" && time.Now().Before(n.tokenExpiry) {
		return n.token, nil
	}
	ans, err := n.login(ctx)
	if err != nil {
		return "", err
	}
	ttl := time.Duration(ans.TokenTTL) * time.Second
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	margin := ttl / 10
	if margin < 5*time.Second {
		margin = 5 * time.Second
	}
	if margin > ttl/2 {
		margin = ttl / 2
	}
	n.token = ans.AccessToken
	n.tokenExpiry = time.Now().Add(ttl - margin)
	return n.token, nil
}

// login posts the credentials to each address in turn until one answers. Real
// Nacos serves POST /nacos/v1/auth/login and reads the form body (the password stays
// out of URLs and access logs). Polaris v1.18.1 serves the route at /v1/auth/login
// instead and reads only the query string; it is tried when the first one is 404.
func (n *Nacos) login(ctx context.Context) (loginAnswer, error) {
	form := url.Values{"username": {n.cfg.Username}, "password": {n.cfg.Password}}
	var lastErr error
	for _, addr := range n.cfg.Addresses {
		base := "http://" + addr
		raw, _, err := n.send(ctx, http.MethodPost, base+"/nacos/v1/auth/login", form, "")
		if statusOf(err) == http.StatusNotFound {
			raw, _, err = n.send(ctx, http.MethodPost, base+"/v1/auth/login?"+form.Encode(), nil, "")
		}
		switch status := statusOf(err); {
		case err == nil:
			var ans loginAnswer
			if err := json.Unmarshal(raw, &ans); err != nil || ans.AccessToken == "" {
				return ans, fmt.Errorf("login as %q at %s: the answer holds no access token: %.200s",
					n.cfg.Username, addr, raw)
			}
			return ans, nil
		case credentialsRefused(status, err):
			return loginAnswer{}, fmt.Errorf("login as %q at %s refused: wrong username or password? (%v)",
				n.cfg.Username, addr, err)
		case status != 0:
			return loginAnswer{}, fmt.Errorf("login as %q at %s failed: %v", n.cfg.Username, addr, err)
		}
		lastErr = fmt.Errorf("login at %s: %w", addr, err)
		if ctx.Err() != nil {
			break
		}
	}
	return loginAnswer{}, lastErr
}

// credentialsRefused recognises a refused login: real Nacos answers 403 (or 401);
// Polaris answers 500 "invalid token".
func credentialsRefused(status int, err error) bool {
	if status == http.StatusForbidden || status == http.StatusUnauthorized {
		return true
	}
	if status == 0 {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "invalid token") || strings.Contains(msg, "password") ||
		strings.Contains(msg, "unknown user") || strings.Contains(msg, "user not found")
}

// forgetToken drops the cached token, so that the next call logs in again. It is
// used when the server rejects a token before its announced expiry.
func (n *Nacos) forgetToken() {
	n.tokenMu.Lock()
	n.token = ""
	n.tokenMu.Unlock()
}
