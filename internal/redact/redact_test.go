package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestString(t *testing.T) {
	tests := map[string]struct {
		secrets []string
		in      string
		want    string
	}{
		"no secrets":        {nil, "password=hunter2", "password=hunter2"},
		"one secret":        {[]string{"hunter2"}, "password=hunter2 again hunter2", "password=(sensitive value) again (sensitive value)"},
		"empty ignored":     {[]string{"", "  "}, "a  b", "a  b"},
		"longest wins":      {[]string{"abc", "abcdef"}, "x abcdef-x abc.", "x (sensitive value)-x (sensitive value)."},
		"json escaped form": {[]string{`p"w\d`}, `{"password":"p\"w\\d"}`, `{"password":"(sensitive value)"}`},
		"near miss":         {[]string{"hunter2"}, "hunter hunter3", "hunter hunter3"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, New(tc.secrets...).String(tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestWholeTokensOnly checks the rule: a secret is replaced where it stands as a
// value (a whole token), never inside a longer word.
func TestWholeTokensOnly(t *testing.T) {
	r := New("main", "s3cr3t!", "-x9")
	tests := map[string]string{
		"domain maintenance mainly remain":   "domain maintenance mainly remain",
		`password = "main"`:                  `password = "(sensitive value)"`,
		"password=main user=nacos":           "password=(sensitive value) user=nacos",
		"key: main\n":                        "key: (sensitive value)\n",
		"main":                               "(sensitive value)",
		"(main) [main] {main} main, main.":   "((sensitive value)) [(sensitive value)] {(sensitive value)} (sensitive value), (sensitive value).",
		"postgres://u:main@db/main?x=1":      "postgres://u:(sensitive value)@db/(sensitive value)?x=1",
		"main_branch xmain main2 maïn mainé": "main_branch xmain main2 maïn mainé",
		"pw=s3cr3t! pw=s3cr3t!!":             "pw=(sensitive value) pw=(sensitive value)!",
		"as=s3cr3t!x":                        "as=(sensitive value)x", // ends in punctuation: no boundary needed after
		"opt-x9 y":                           "opt(sensitive value) y",
		// An escape ends a word: percent-encoding, JSON and Go quoting.
		"AccessKeyId%3Dmain%26Action=x":      "AccessKeyId%3D(sensitive value)%26Action=x",
		`"first line\nmain\tmain\u0026main"`: `"first line\n(sensitive value)\t(sensitive value)\u0026(sensitive value)"`,
		`"x\u00e9main"`:                      `"x\u00e9(sensitive value)"`,
		"x%zzmain":                           "x%zzmain",
	}
	for in, want := range tests {
		if diff := cmp.Diff(want, r.String(in)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", in, diff)
		}
	}
}

// TestWriterWholeTokensAcrossWrites checks the token rule where a write ends or
// starts at the secret: the writer holds a secret at the end of a write until
// it knows whether a word goes on, and remembers the byte before a write.
func TestWriterWholeTokensAcrossWrites(t *testing.T) {
	const text = "domain=main mains main\n"
	want := "domain=(sensitive value) mains (sensitive value)\n"
	r := New("main")
	for i := 0; i <= len(text); i++ {
		for j := i; j <= len(text); j++ {
			var buf bytes.Buffer
			w := r.Writer(&buf)
			for _, piece := range []string{text[:i], text[i:j], text[j:]} {
				w.Write([]byte(piece))
			}
			w.Flush()
			if buf.String() != want {
				t.Errorf("split at %d and %d: got %q, want %q", i, j, buf.String(), want)
			}
		}
	}
	var buf bytes.Buffer
	w := r.Writer(&buf)
	w.Write([]byte("last: main"))
	if got := buf.String(); got != "last: " {
		t.Errorf("a secret ending a write was passed on before its end was known: %q", got)
	}
	w.Flush()
	if got := buf.String(); got != "last: (sensitive value)" {
		t.Errorf("after flush: %q", got)
	}
}

// TestURLEncodedSecret checks that a secret with special characters is caught
// percent-encoded, as it appears in a URL or a form.
func TestURLEncodedSecret(t *testing.T) {
	const secret = "p@ss w/rd&1"
	r := New(secret)
	for _, in := range []string{
		"https://h/login?user=u&password=" + url.QueryEscape(secret) + "&x=1",
		"https://h/tokens/" + url.PathEscape(secret),
	} {
		if got := r.String(in); strings.Contains(got, "ss+w") || strings.Contains(got, "ss%20w") || !strings.HasSuffix(got, Replacement+"&x=1") && !strings.HasSuffix(got, "/"+Replacement) {
			t.Errorf("%s -> %s", in, got)
		}
	}
}

// TestWriterEscapesAcrossWrites splits an escaped secret at every position.
func TestWriterEscapesAcrossWrites(t *testing.T) {
	const text = "q=a%3Dmain%26b \\u0026main\n"
	want := "q=a%3D(sensitive value)%26b \\u0026(sensitive value)\n"
	r := New("main")
	for i := 0; i <= len(text); i++ {
		var buf bytes.Buffer
		w := r.Writer(&buf)
		w.Write([]byte(text[:i]))
		w.Write([]byte(text[i:]))
		w.Flush()
		if buf.String() != want {
			t.Errorf("split at %d: got %q, want %q", i, buf.String(), want)
		}
	}
}

func TestJSONMarshalledSecretIsRedacted(t *testing.T) {
	secret := "tab\there \"quoted\" <html> ü"
	out, err := json.Marshal(map[string]string{"password": secret})
	if err != nil {
		t.Fatal(err)
	}
	got := New(secret).String(string(out))
	if want := `{"password":"(sensitive value)"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestWriterSplitWrites writes the text in two pieces split at every possible
// position and checks that the secret never gets through.
func TestWriterSplitWrites(t *testing.T) {
	const text = "user=admin password=s3cr3t-value; again: s3cr3t-value\n"
	want := "user=admin password=(sensitive value); again: (sensitive value)\n"
	r := New("s3cr3t-value")
	for i := 0; i <= len(text); i++ {
		var buf bytes.Buffer
		w := r.Writer(&buf)
		for _, piece := range []string{text[:i], text[i:]} {
			if n, err := w.Write([]byte(piece)); err != nil || n != len(piece) {
				t.Fatalf("split %d: write returned %d, %v", i, n, err)
			}
		}
		if diff := cmp.Diff(want, buf.String()); diff != "" {
			t.Errorf("split at %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestWriterByteAtATimeAndFlush(t *testing.T) {
	r := New("topsecret")
	var buf bytes.Buffer
	w := r.Writer(&buf)
	for _, b := range []byte("a topsecret b tops") {
		w.Write([]byte{b})
	}
	if got, want := buf.String(), "a (sensitive value) b "; got != want {
		t.Errorf("before flush got %q, want %q", got, want)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "a (sensitive value) b tops"; got != want {
		t.Errorf("after flush got %q, want %q", got, want)
	}
}

func TestAddAtRuntime(t *testing.T) {
	r := New()
	var buf bytes.Buffer
	w := r.Writer(&buf)
	fmt.Fprintln(w, "before: pa55word")
	r.Add("pa55word")
	fmt.Fprintln(w, "after: pa55word")
	want := "before: pa55word\nafter: (sensitive value)\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWriterConcurrent(t *testing.T) {
	r := New("concurrent-secret")
	var buf bytes.Buffer
	w := r.Writer(&buf)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				fmt.Fprintf(w, "goroutine %d line %d concurrent-secret\n", g, i)
				if i%50 == 0 {
					r.Add(fmt.Sprintf("extra-%d-%d", g, i))
				}
			}
		}()
	}
	wg.Wait()
	w.Flush()
	if strings.Contains(buf.String(), "concurrent-secret") {
		t.Error("secret leaked through concurrent writes")
	}
	if got := strings.Count(buf.String(), Replacement); got != 8*200 {
		t.Errorf("got %d replacements, want %d", got, 8*200)
	}
}

func BenchmarkWriter(b *testing.B) {
	r := New("hunter2", "AKIAEXAMPLEKEY", "another-long-secret-value")
	line := []byte(strings.Repeat("a log line with ordinary words ", 4) + "\n")
	w := r.Writer(&bytes.Buffer{})
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		w.Write(line)
	}
}
