package fleet

import "testing"

func TestRewritePolarisYAMLFailsOnUnknownFile(t *testing.T) {
	if _, err := rewritePolarisYAML("bootstrap: {}\n", polarisPorts{8848, 8090, 8091}, PolarisOptions{}); err == nil {
		t.Fatal("rewriting a file without an apiservers section succeeded")
	}
}
