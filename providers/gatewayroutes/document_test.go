package gatewayroutes

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// service is a service with routes of every kind of match, declared out of order.
func service() *lang.Service {
	return &lang.Service{Name: "order-service", Version: "1.4.2", Routes: []*lang.Route{
		{Name: "vip", Version: "1.5.0", Match: lang.RouteMatch{Numbers: []lang.NumberMatch{
			{Source: "query", Name: "uid", GTE: 5000000, LT: 6000000},
			{Source: "header", Name: "x-tenant-id", LT: 100},
		}}},
		{Name: "beta-testers", Version: "1.5.0-rc1", Match: lang.RouteMatch{
			ClientIP: []string{"192.168.0.0/16", "10.8.0.0/16"},
			Header:   map[string]string{"x-canary": "1"},
		}},
	}}
}

// TestMarshalGolden checks the canonical text against testdata/order-service.json,
// and that it reads back as the same document and text.
func TestMarshalGolden(t *testing.T) {
	d := Desired(service(), map[string]int{"1.4.2": 95, "1.5.0": 5, "1.3.0": 0})
	got := d.Marshal()
	path := filepath.Join("testdata", "order-service.json")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("document (-golden +got):\n%s", diff)
	}
	back, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, back); diff != "" {
		t.Errorf("parsed back (-want +got):\n%s", diff)
	}
	if again := back.Marshal(); again != got {
		t.Errorf("marshalled twice differently:\n%s\n%s", got, again)
	}
	if Desired(service(), map[string]int{"1.5.0": 5, "1.4.2": 95}).Marshal() != got {
		t.Error("the same configuration gave other bytes")
	}
}

func TestParseRefuses(t *testing.T) {
	for name, text := range map[string]string{
		"not json":     "routes: []",
		"other format": `{"format": "nonstop.gateway-routes/v2", "routes": []}`,
		"no format":    `{"routes": []}`,
		"wrong type":   `{"format": "nonstop.gateway-routes/v1", "weights": {"1.0.0": "all"}}`,
	} {
		if _, err := Parse(text); err == nil {
			t.Errorf("%s: parsed %q", name, text)
		}
	}
}

// TestDiff checks the field-level differences a plan and drift report.
func TestDiff(t *testing.T) {
	want := Desired(service(), SteadyWeights("1.5.0"))
	wantText := want.Marshal()
	edited := Desired(service(), SteadyWeights("1.4.2"))
	edited.Routes[0].Version = "1.4.2"         // beta-testers
	edited.Routes[1].Match.Numbers[0].LT = 200 // vip: header x-tenant-id
	edited.Routes = append(edited.Routes, Route{Name: "old", Version: "1.3.0", Match: Match{ClientIP: []string{"10.0.0.1"}}})
	reformatted := `{"format":"nonstop.gateway-routes/v1","service":"order-service","weights":{"1.5.0":100},` +
		`"routes":[{"name":"vip","version":"1.5.0","match":{"numbers":[{"source":"query","name":"uid","gte":5000000,"lt":6000000},{"source":"header","name":"X-Tenant-Id","lt":100}]}},` +
		`{"name":"beta-testers","version":"1.5.0-rc1","match":{"client_ip":["10.8.0.0/16","192.168.0.0/16"],"header":{"X-Canary":"1"}}}]}`
	parsed, err := Parse(reformatted)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		live    *Document
		liveErr error
		text    string
		want    []FieldDiff
	}{
		"missing": {want: []FieldDiff{{Field: "present", Before: false, After: true}}},
		"unreadable": {liveErr: errors.New("format \"x\" is not \"nonstop.gateway-routes/v1\""), text: "x",
			want: []FieldDiff{{Field: "content", Before: "format \"x\" is not \"nonstop.gateway-routes/v1\"", After: Format}}},
		"same": {live: &want, text: wantText},
		"reformatted": {live: &parsed, text: reformatted, want: []FieldDiff{{Field: "content",
			Before: "edited by hand (md5 " + MD5(reformatted, true) + ")", After: "canonical (md5 " + MD5(wantText, true) + ")"}}},
		"edited": {live: &edited, text: edited.Marshal(), want: []FieldDiff{
			{Field: "route beta-testers version", Before: "1.4.2", After: "1.5.0-rc1"},
			{Field: "route vip match", Before: "header={X-Tenant-Id<200} query={5000000<=uid<6000000}", After: "header={X-Tenant-Id<100} query={5000000<=uid<6000000}"},
			{Field: "route old", Before: "version=1.3.0 client_ip=[10.0.0.1]", After: nil},
			{Field: "weights", Before: "1.4.2=100", After: "1.5.0=100"},
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := Diff(c.live, c.liveErr, c.text, want, wantText)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("diff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMD5(t *testing.T) {
	if got := MD5("", false); got != "" {
		t.Errorf("absent: %q", got)
	}
	if got := MD5("v1", true); got != "6654c734ccab8f440ff0825eb443dc7f" {
		t.Errorf("md5 %q", got)
	}
}
