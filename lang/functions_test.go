package lang

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// TestFunctions evaluates each function family once through HCL.
func TestFunctions(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "motd.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) (string, bool) {
		if k == "SET" {
			return "value", true
		}
		return "", false
	}
	ctx := &hcl.EvalContext{Functions: functions(getenv, diskReader(dir))}
	tests := map[string]cty.Value{
		`env("SET")`:                                cty.StringVal("value"),
		`env("UNSET")`:                              cty.StringVal(""),
		`env("UNSET", "fallback")`:                  cty.StringVal("fallback"),
		`env("SET", "fallback")`:                    cty.StringVal("value"),
		`trimspace(file("motd.txt"))`:               cty.StringVal("hello"),
		`cidrsubnet("10.8.0.0/16", 8, 3)`:           cty.StringVal("10.8.3.0/24"),
		`cidrsubnet("fd00::/48", 16, 255)`:          cty.StringVal("fd00:0:0:ff::/64"),
		`cidrhost("10.8.0.0/16", 5)`:                cty.StringVal("10.8.0.5"),
		`cidrhost("10.8.0.0/24", -2)`:               cty.StringVal("10.8.0.254"),
		`cidrnetmask("10.8.0.0/20")`:                cty.StringVal("255.255.240.0"),
		`length("héllo")`:                           cty.NumberIntVal(5),
		`length([1, 2, 3])`:                         cty.NumberIntVal(3),
		`length({ a = 1 })`:                         cty.NumberIntVal(1),
		`join(",", reverse(["a", "b"]))`:            cty.StringVal("b,a"),
		`format("%s:%d", "h", 80)`:                  cty.StringVal("h:80"),
		`tostring(8080)`:                            cty.StringVal("8080"),
		`tonumber("12")`:                            cty.NumberIntVal(12),
		`jsonencode({ a = [1] })`:                   cty.StringVal(`{"a":[1]}`),
		`max(1, 5, 3)`:                              cty.NumberIntVal(5),
		`coalesce("", "x")`:                         cty.StringVal("x"),
		`try(tonumber("x"), 7)`:                     cty.NumberIntVal(7),
		`can(regex("^a", "abc"))`:                   cty.True,
		`upper(title("order service"))`:             cty.StringVal("ORDER SERVICE"),
		`contains(distinct(["a", "a"]), "a")`:       cty.True,
		`element(flatten([["x"], ["y"]]), 1)`:       cty.StringVal("y"),
		`replace("a-b-c", "-", "_")`:                cty.StringVal("a_b_c"),
		`keys(merge({ a = 1 }, { b = 2 }))[1]`:      cty.StringVal("b"),
		`sort(split(",", "c,a,b"))[0]`:              cty.StringVal("a"),
		`formatlist("%s:80", ["a", "b"])[1]`:        cty.StringVal("b:80"),
		`length(range(3))`:                          cty.NumberIntVal(3),
		`abs(-2) + ceil(1.2) + floor(1.8)`:          cty.NumberIntVal(5),
		`substr(lower("HELLO"), 1, 3)`:              cty.StringVal("ell"),
		`jsondecode("{\"a\": true}").a`:             cty.True,
		`regexall("[0-9]+", "a1b22")[1]`:            cty.StringVal("22"),
		`slice(concat(["a"], ["b", "c"]), 1, 3)[0]`: cty.StringVal("b"),
	}
	for src, want := range tests {
		t.Run(src, func(t *testing.T) {
			expr, d := hclsyntax.ParseExpression([]byte(src), "test", hcl.InitialPos)
			if d.HasErrors() {
				t.Fatal(d.Error())
			}
			got, d := expr.Value(ctx)
			if d.HasErrors() {
				t.Fatal(d.Error())
			}
			if !got.RawEquals(want) && !(got.Type() == cty.Number && want.Type() == cty.Number && got.Equals(want).True()) {
				t.Errorf("%s = %#v, want %#v", src, got, want)
			}
		})
	}
}

// TestFileFuncRefusesDevices checks that file() reads only regular files.
func TestFileFuncRefusesDevices(t *testing.T) {
	read := diskReader(t.TempDir())
	if _, err := read("/dev/zero"); err == nil {
		t.Error("file(\"/dev/zero\") succeeded")
	}
	if _, err := read("."); err == nil {
		t.Error("file(\".\") succeeded on a directory")
	}
}
