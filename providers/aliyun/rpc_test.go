package aliyun

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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

func TestDecodeError(t *testing.T) {
	cases := map[string]struct {
		status int
		body   string
		want   APIError
	}{
		"documented body": {400, `{"RequestId":"R1","HostId":"slb.aliyuncs.com","Code":"Throttling","Message":"Request was denied due to request throttling.","Recommend":"https://api.aliyun.com/troubleshoot?q=Throttling"}`,
			APIError{Action: "A", HTTPStatus: 400, Code: "Throttling", Message: "Request was denied due to request throttling.", RequestID: "R1"}},
		"html page":  {503, "<html>\n<body>busy</body></html>", APIError{Action: "A", HTTPStatus: 503, Message: "HTTP 503: <html>"}},
		"empty body": {500, "", APIError{Action: "A", HTTPStatus: 500}},
		"json without code": {403, `{"error":"forbidden"}`,
			APIError{Action: "A", HTTPStatus: 403, Message: `HTTP 403: {"error":"forbidden"}`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := decodeError("A", tc.status, []byte(tc.body))
			got, ok := err.(*APIError)
			if !ok {
				t.Fatalf("error %T, want *APIError", err)
			}
			if d := cmp.Diff(tc.want, *got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	if got := (&APIError{Action: "A", HTTPStatus: 500}).Error(); got != "A: HTTP 500" {
		t.Errorf("empty error reads %q", got)
	}
}
