package command

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func TestUnifiedDiff(t *testing.T) {
	long := numbered(1, 20)
	tests := map[string]struct {
		before, after string
		want          string
	}{
		"equal": {"a\n", "a\n", ""},
		"one change in the middle": {
			long, strings.Replace(long, "line 10\n", "line ten\n", 1),
			"@@ -7,7 +7,7 @@\n line 7\n line 8\n line 9\n-line 10\n+line ten\n line 11\n line 12\n line 13\n",
		},
		"two distant changes make two hunks": {
			long, strings.Replace(strings.Replace(long, "line 2\n", "", 1), "line 19\n", "line 19\nnew\n", 1),
			"@@ -1,5 +1,4 @@\n line 1\n-line 2\n line 3\n line 4\n line 5\n" +
				"@@ -17,4 +16,5 @@\n line 17\n line 18\n line 19\n+new\n line 20\n",
		},
		"close changes share a hunk": {
			numbered(1, 8), strings.Replace(strings.Replace(numbered(1, 8), "line 2\n", "two\n", 1), "line 7\n", "seven\n", 1),
			"@@ -1,8 +1,8 @@\n line 1\n-line 2\n+two\n line 3\n line 4\n line 5\n line 6\n-line 7\n+seven\n line 8\n",
		},
		"insert into empty": {"", "a\nb\n", "@@ -0,0 +1,2 @@\n+a\n+b\n"},
		"missing final newline": {
			"a\nb", "a\nb\n",
			"@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := string(UnifiedDiff("f", tc.before, tc.after))
			want := tc.want
			if want != "" {
				want = "--- a/f\n+++ b/f\n" + want
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
