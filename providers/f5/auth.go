package f5

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// tokenHeader carries an iControl REST token.
const tokenHeader = "X-F5-Auth-Token"

// defaultTokenTimeout is a BIG-IP token's lifetime when the login answer does not
// say (1,200 s by default on BIG-IP).
const defaultTokenTimeout = 1200 * time.Second

// authMode is how the provider authenticates.
type authMode int

const (
	authUnknown authMode = iota // not logged in yet
	authToken                   // X-F5-Auth-Token from POST /mgmt/shared/authn/login
	authBasic                   // HTTP basic auth: the login endpoint does not exist
)

// authState is the provider's current authentication, guarded by F5.authMu.
type authState struct {
	mode    authMode
	token   string
	refresh time.Time // log in again from this time on
}

// loginRequest is the body of POST /mgmt/shared/authn/login.
type loginRequest struct {
	Username          string `json:"username"`
	Password          string `json:"password"`
	LoginProviderName string `json:"loginProviderName"`
}

// loginAnswer is the part of the login answer nonstop reads.
type loginAnswer struct {
	Token struct {
		Token   string `json:"token"`
		Timeout int64  `json:"timeout"` // seconds
	} `json:"token"`
}

// authHeader returns the headers that authenticate one request: the token, logging
// in first when there is none, it is within a tenth of its lifetime (at most a
// minute) of expiring, or force is set; or basic auth where the login endpoint does
// not exist.
func (f *F5) authHeader(ctx context.Context, force bool) (http.Header, error) {
	f.authMu.Lock()
	defer f.authMu.Unlock()
	stale := f.auth.mode == authToken && (force || !f.now().Before(f.auth.refresh))
	if f.auth.mode == authUnknown || stale {
		if err := f.login(ctx); err != nil {
			return nil, err
		}
	}
	if f.auth.mode == authBasic {
		creds := base64.StdEncoding.EncodeToString([]byte(f.username + ":" + f.password))
		return http.Header{"Authorization": {"Basic " + creds}}, nil
	}
	return http.Header{tokenHeader: {f.auth.token}}, nil
}

// login asks for a token with the tmos login provider (local users and the remote
// users BIG-IP authenticates). Where the endpoint does not exist (404, 405) the
// provider falls back to basic auth, which BIG-IP accepts for local users.
func (f *F5) login(ctx context.Context) error {
	req := loginRequest{Username: f.username, Password: f.password, LoginProviderName: "tmos"}
	payload, _ := json.Marshal(req)
	raw, err := f.do(ctx, http.MethodPost, "/mgmt/shared/authn/login", payload, nil)
	switch st := statusOf(err); {
	case st == http.StatusNotFound || st == http.StatusMethodNotAllowed:
		f.logger.Info("f5: no token login endpoint; using basic auth", "provider", f.name, "status", st)
		f.auth = authState{mode: authBasic}
		return nil
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return fmt.Errorf("login as %q at %s refused: %v", f.username, f.base.Host, err)
	case err != nil:
		return fmt.Errorf("login as %q at %s: %w", f.username, f.base.Host, err)
	}
	var ans loginAnswer
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Token.Token == "" {
		return fmt.Errorf("login as %q at %s: the answer holds no token", f.username, f.base.Host)
	}
	ttl := time.Duration(ans.Token.Timeout) * time.Second
	if ttl <= 0 {
		ttl = defaultTokenTimeout
	}
	margin := min(ttl/10, time.Minute)
	f.auth = authState{mode: authToken, token: ans.Token.Token, refresh: f.now().Add(ttl - margin)}
	return nil
}

// Close deletes the provider's token (DELETE /mgmt/shared/authz/tokens/TOKEN): a
// BIG-IP user may hold at most 100 tokens at once. A token already gone is fine.
func (f *F5) Close() error {
	f.authMu.Lock()
	defer f.authMu.Unlock()
	if f.auth.mode != authToken {
		return nil
	}
	token := f.auth.token
	f.auth = authState{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := f.do(ctx, http.MethodDelete, "/mgmt/shared/authz/tokens/"+url.PathEscape(token), nil,
		http.Header{tokenHeader: {token}})
	if st := statusOf(err); err != nil && st != http.StatusNotFound && st != http.StatusUnauthorized {
		return f.errorf("deleting the login token: %v", err)
	}
	return nil
}
