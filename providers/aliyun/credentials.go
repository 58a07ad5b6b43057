package aliyun

import (
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/aliyun/credentials-go/credentials"
)

// chainSources names, for error messages, where the default credential chain of
// github.com/aliyun/credentials-go looks, in its order.
const chainSources = "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (with ALIBABA_CLOUD_SECURITY_TOKEN for STS); " +
	"OIDC with ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE; " +
	"the aliyun CLI's ~/.aliyun/config.json; ~/.alibabacloud/credentials (ALIBABA_CLOUD_CREDENTIALS_FILE); " +
	"the ECS instance's RAM role (ALIBABA_CLOUD_ECS_METADATA names it); ALIBABA_CLOUD_CREDENTIALS_URI"

// accessKey is what one request is signed with: an AccessKey, an STS security
// token with it when the key is temporary, and where it came from.
type accessKey struct {
	id, secret, token string
	source            string // "static_ak", "static_sts", or the chain's provider name
}

// String names the key's source only: a key is never printed.
func (k accessKey) String() string { return "credentials from " + k.source }

// GoString is String, so that %#v prints no secret either.
func (k accessKey) GoString() string { return k.String() }

// scrub removes the key's ID, secret and token from a text an API or a
// transport produced: an error answer may quote the string it signed, which
// holds the AccessKey ID and the security token percent-encoded twice (an STS
// token has '/', '+' and '=' in it), so the encoded forms go too.
func (k accessKey) scrub(s string) string {
	for _, v := range []string{k.secret, k.token, k.id} {
		if len(v) < 4 {
			continue
		}
		once := url.QueryEscape(v)
		for _, form := range []string{url.QueryEscape(once), once, v} {
			s = strings.ReplaceAll(s, form, "(redacted)")
		}
	}
	return s
}

// credentialError is a failure to find credentials: no request was sent.
type credentialError struct{ err error }

func (e *credentialError) Error() string {
	return fmt.Sprintf("no credentials: access_key_id and access_key_secret are not set and the default credential chain found none (it tries %s): %v", chainSources, e.err)
}

func (e *credentialError) Unwrap() error { return e.err }

// credentialSource gives the AccessKey each request is signed with: the block's
// own (static), or the default credential chain of credentials-go, built at the
// first request and kept, so that temporary credentials it fetched (RAM role,
// OIDC, credentials URI) are reused until they near their expiry and then
// refreshed by the chain.
type credentialSource struct {
	static *accessKey

	mu       sync.Mutex
	chain    credentials.Credential
	newChain func() (credentials.Credential, error)
}

// newCredentials is the credential source of a block: its AccessKey (with its
// security token) when it has one, the default chain otherwise. Nothing is
// looked up here.
func newCredentials(st settings) *credentialSource {
	if st.keyID != "" {
		k := &accessKey{id: st.keyID, secret: st.keySecret, token: st.securityToken, source: "static_ak"}
		if k.token != "" {
			k.source = "static_sts"
		}
		return &credentialSource{static: k}
	}
	return &credentialSource{newChain: func() (credentials.Credential, error) { return credentials.NewCredential(nil) }}
}

// kind says which source this is, for tests and debug logs.
func (s *credentialSource) kind() string {
	if s.static != nil {
		return s.static.source
	}
	return "default chain"
}

// get returns the key to sign the next request with. A chain that found nothing
// is dropped, so the next request asks a new one (the environment may have been
// fixed, and credentials-go's chain would otherwise only ask its last provider
// again).
func (s *credentialSource) get() (accessKey, error) {
	if s.static != nil {
		return *s.static, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.chain == nil {
		c, err := s.newChain()
		if err != nil {
			return accessKey{}, &credentialError{err}
		}
		s.chain = c
	}
	m, err := s.chain.GetCredential()
	if err != nil {
		s.chain = nil
		return accessKey{}, &credentialError{err}
	}
	k := accessKey{id: deref(m.AccessKeyId), secret: deref(m.AccessKeySecret), token: deref(m.SecurityToken), source: deref(m.ProviderName)}
	if k.id == "" || k.secret == "" {
		s.chain = nil
		return accessKey{}, &credentialError{fmt.Errorf("%s gave an empty AccessKey", k.source)}
	}
	return k, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
