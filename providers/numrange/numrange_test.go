package numrange

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/patterns.golden")

// goldenRanges are the ranges whose patterns are pinned in testdata/patterns.golden.
var goldenRanges = [][2]int64{
	{0, 0}, {1, 0}, {9, 0}, {10, 0}, {100, 0}, {5_000_000, 0}, {5_000_001, 0}, {1234, 0},
	{0, 10}, {0, 100}, {5_000_000, 6_000_000}, {1, 2}, {7, 8}, {19, 31}, {100, 1000},
	{1234, 5679}, {999, 1001}, {0, 1}, {MaxBound, 0}, {0, MaxBound + 1}, {123_456_789, 987_654_321_000},
}

// TestGolden pins the patterns of a few ranges, so that a change of the generator
// shows in review. Rewrite with go test ./providers/numrange -update.
func TestGolden(t *testing.T) {
	var b strings.Builder
	for _, r := range goldenRanges {
		fmt.Fprintf(&b, "[%d, %s) %s\n", r[0], upper(r[1]), Pattern("", r[0], r[1]))
	}
	const golden = "testdata/patterns.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("patterns differ from %s (-want +got):\n%s", golden, diff)
	}
}

func upper(lt int64) string {
	if lt == 0 {
		return "∞"
	}
	return strconv.FormatInt(lt, 10)
}

// compile compiles a pattern as RE2 (what the test checks against) and as POSIX
// ERE, so the pattern stays within what every balancer's engine reads.
func compile(t *testing.T, p string) *regexp.Regexp {
	t.Helper()
	if _, err := regexp.CompilePOSIX(p); err != nil {
		t.Fatalf("pattern %q is not POSIX ERE: %v", p, err)
	}
	if strings.Contains(p, `\`) || strings.Contains(p, "(?") {
		t.Fatalf("pattern %q uses a backslash or a (? group", p)
	}
	return regexp.MustCompile(p)
}

// TestEdges checks the values the issue names around 5,000,000 and a range.
func TestEdges(t *testing.T) {
	tests := []struct {
		gte, lt int64
		match   []string
		miss    []string
	}{
		{5_000_000, 0,
			[]string{"5000000", "5000001", "05000000", "0000000000000000000000005000000", "9999999", "10000000",
				"123456789012345678901234567890", "99999999999999999999999999999999999999"},
			[]string{"4999999", "0004999999", "", "0", "000", "-5000000", "+5000000", "5000000.0", "5e6", " 5000000",
				"5000000 ", "5 000 000", "0x4C4B40", "abc", "5000000a", "٥٠٠٠٠٠٠"}},
		{5_000_000, 6_000_000,
			[]string{"5000000", "5999999", "005999999"},
			[]string{"4999999", "6000000", "6000001", "60000000", "123456789012345678901234567890", ""}},
		{0, 0,
			[]string{"0", "000", "7", "18446744073709551616"},
			[]string{"", "-1", "x"}},
		{0, 100,
			[]string{"0", "00", "99", "0099"},
			[]string{"100", "-1", ""}},
	}
	for _, tt := range tests {
		re := compile(t, Pattern("", tt.gte, tt.lt))
		for _, v := range tt.match {
			if !re.MatchString(v) || !Matches(v, tt.gte, tt.lt) {
				t.Errorf("[%d, %s): %q does not match (pattern %s, reference %v)", tt.gte, upper(tt.lt), v, re, Matches(v, tt.gte, tt.lt))
			}
		}
		for _, v := range tt.miss {
			if re.MatchString(v) || Matches(v, tt.gte, tt.lt) {
				t.Errorf("[%d, %s): %q matches (pattern %s, reference %v)", tt.gte, upper(tt.lt), v, re, Matches(v, tt.gte, tt.lt))
			}
		}
	}
}

// TestExhaustive compares every range within 0..240 with every value in 0..1100,
// written plainly and with leading zeros.
func TestExhaustive(t *testing.T) {
	for gte := int64(0); gte <= 240; gte++ {
		for _, lt := range []int64{0, gte + 1, gte + 2, gte + 9, gte + 10, gte + 11, gte + 99, gte + 100, gte + 101, 1000, 1001} {
			if lt != 0 && lt <= gte {
				continue
			}
			re := compile(t, Pattern("", gte, lt))
			for v := 0; v <= 1100; v++ {
				for _, s := range []string{strconv.Itoa(v), "0" + strconv.Itoa(v), "00" + strconv.Itoa(v)} {
					if got, want := re.MatchString(s), Matches(s, gte, lt); got != want {
						t.Fatalf("[%d, %s) pattern %s: %q matches %v, want %v", gte, upper(lt), re, s, got, want)
					}
				}
			}
		}
	}
}

// TestRandom compares random ranges up to MaxBound with values near their edges
// and at random, of up to 25 digits.
func TestRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	randBound := func() int64 {
		digits := rng.Intn(18) + 1
		n := rng.Int63n(pow10(digits))
		return n
	}
	for i := 0; i < 3000; i++ {
		gte, lt := randBound(), int64(0)
		if rng.Intn(3) > 0 {
			lt = gte + 1 + rng.Int63n(min(MaxBound+1-gte, pow10(rng.Intn(18)+1)))
		}
		re := compile(t, Pattern("", gte, lt))
		var vals []int64
		for _, e := range []int64{gte, lt} {
			for d := int64(-2); d <= 2; d++ {
				if e+d >= 0 {
					vals = append(vals, e+d)
				}
			}
		}
		for j := 0; j < 20; j++ {
			vals = append(vals, randBound())
		}
		strs := []string{strconv.FormatInt(rng.Int63(), 10) + strconv.FormatInt(rng.Int63(), 10)}
		for _, v := range vals {
			strs = append(strs, strconv.FormatInt(v, 10), strings.Repeat("0", rng.Intn(4))+strconv.FormatInt(v, 10))
		}
		for _, s := range strs {
			if got, want := re.MatchString(s), Matches(s, gte, lt); got != want {
				t.Fatalf("[%d, %s) pattern %s: %q matches %v, want %v", gte, upper(lt), re, s, got, want)
			}
		}
	}
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		gte, lt int64
		ok      bool
	}{
		{0, 0, true}, {0, 1, true}, {MaxBound, 0, true}, {MaxBound, MaxBound + 1, true},
		{-1, 0, false}, {5, 5, false}, {5, 4, false}, {MaxBound + 1, 0, false}, {0, MaxBound + 2, false}, {0, -1, false},
	} {
		if err := Check(tt.gte, tt.lt); (err == nil) != tt.ok {
			t.Errorf("Check(%d, %d) = %v, want ok %v", tt.gte, tt.lt, err, tt.ok)
		}
	}
}

func TestLiteral(t *testing.T) {
	for in, want := range map[string]string{
		"order_backend/query/id=": "order_backend/query/id=",
		"web.v2/header/X-Tenant=": "web[.]v2/header/X-Tenant=",
		"a^b]c\\d$e|f(g)":         `a\^b\]c\\d[$]e[|]f[(]g[)]`,
	} {
		got := Literal(in)
		if got != want {
			t.Errorf("Literal(%q) = %q, want %q", in, got, want)
		}
		re := regexp.MustCompile("^" + got + "$")
		if !re.MatchString(in) {
			t.Errorf("%q does not match itself escaped as %q", in, got)
		}
	}
	re := regexp.MustCompile(Pattern(Literal("web.v2/query/id="), 10, 0))
	if re.MatchString("webXv2/query/id=10") || !re.MatchString("web.v2/query/id=10") {
		t.Errorf("prefix with a dot is not literal in %s", re)
	}
}
