package aliyun

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what signature version 1.0 prescribes
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The fake API checks the signature of every request the SDK sends the way the
// service does, with this independent implementation of signature version 1.0
// after https://help.aliyun.com/document_detail/28839.html ("签名机制");
// TestRPCSignature pins it to the documented examples, so a request the fake
// accepts is one the service would.

// canonicalQuery sorts the parameters by name and joins their percent-encoded
// names and values.
func canonicalQuery(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, val := range v[k] {
			parts = append(parts, percentEncode(k)+"="+percentEncode(val))
		}
	}
	return strings.Join(parts, "&")
}

// rpcSignature is Base64(HMAC-SHA1(secret + "&", METHOD + "&%2F&" +
// percentEncode(canonicalQuery))).
func rpcSignature(method, canonical, secret string) string {
	stringToSign := method + "&" + percentEncode("/") + "&" + percentEncode(canonical)
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// percentEncode is RFC 3986 encoding as the signature document prescribes: only
// A-Z, a-z, 0-9, '-', '_', '.' and '~' stay as they are; a space is %20.
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ('A' <= ch && ch <= 'Z') || ('a' <= ch && ch <= 'z') || ('0' <= ch && ch <= '9') ||
			ch == '-' || ch == '_' || ch == '.' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[ch>>4])
		b.WriteByte(hexDigits[ch&15])
	}
	return b.String()
}

func TestRPCSignature(t *testing.T) {
	// The signature document's example: https://help.aliyun.com/document_detail/28839.html
	// (AccessKeyId testid, secret testsecret, ECS DescribeRegions).
	docExample := url.Values{
		"Timestamp": {"2016-02-23T12:46:24Z"}, "Format": {"XML"}, "AccessKeyId": {"testid"},
		"Action": {"DescribeRegions"}, "SignatureMethod": {"HMAC-SHA1"}, "Version": {"2014-05-26"},
		"SignatureNonce": {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"}, "SignatureVersion": {"1.0"},
	}
	// The same example as https://developer.aliyun.com/ask/210168 spells it, with
	// "TimeStamp", which changes the sort order and the signature.
	askExample := url.Values{}
	for k, v := range docExample {
		askExample[k] = v
	}
	askExample.Del("Timestamp")
	askExample.Set("TimeStamp", "2016-02-23T12:46:24Z")
	cases := map[string]struct {
		method, secret string
		params         url.Values
		want           string
	}{
		"documented example": {"GET", "testsecret", docExample, "OLeaidS1JvxuMvnyHOwuJ+uX5qY="},
		"developer forum":    {"GET", "testsecret", askExample, "CT9X0VtwR86fNWSnsc6v8YGOjuE="},
		// github.com/alibabacloud-go/openapi-util service/service_test.go Test_GetRPCSignature.
		"openapi-util vector": {"", "accessKeySecret", url.Values{"test": {"ok"}}, "jHx/oHoHNrbVfhncHEvPdHXZwHU="},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := rpcSignature(tc.method, canonicalQuery(tc.params), tc.secret); got != tc.want {
				t.Errorf("signature %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPercentEncode(t *testing.T) {
	cases := map[string]string{
		"AZaz09-_.~":                 "AZaz09-_.~",
		"a b":                        "a%20b",
		"a+b*c~d":                    "a%2Bb%2Ac~d",
		"2016-02-23T12:46:24Z":       "2016-02-23T12%3A46%3A24Z",
		`[{"ServerId":"vm-1"}]`:      "%5B%7B%22ServerId%22%3A%22vm-1%22%7D%5D",
		"中":                          "%E4%B8%AD",
		"sgp-atstuj3rtop****":        "sgp-atstuj3rtop%2A%2A%2A%2A",
		"/":                          "%2F",
		"FFmyTO70tTpLG6I3FmYAXG=&x=": "FFmyTO70tTpLG6I3FmYAXG%3D%26x%3D",
	}
	got := map[string]string{}
	for in := range cases {
		got[in] = percentEncode(in)
	}
	if d := cmp.Diff(cases, got); d != "" {
		t.Errorf("percentEncode (-want +got):\n%s", d)
	}
}
