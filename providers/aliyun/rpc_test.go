package aliyun

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
			err := decodeError("A", tc.status, []byte(tc.body), accessKey{})
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
