package lang_test

// lang's tests validate configurations against the provider kinds nonstop ships,
// which register themselves from their packages (providers.Register →
// lang.RegisterProviderKind). Those packages import lang, so lang's internal tests
// cannot import them; this external test file does, and because both kinds of test
// file link into one test binary, the kinds are registered before any test of the
// package runs. The list is the kinds testdata/ declares, not a second list of the
// shipped ones: a new kind is tested in its own package, with its own blocks.
import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
	_ "github.com/nonstop-release/nonstop/providers/aliyun"
	_ "github.com/nonstop-release/nonstop/providers/f5"
	_ "github.com/nonstop-release/nonstop/providers/haproxy"
	_ "github.com/nonstop-release/nonstop/providers/nacos"
	_ "github.com/nonstop-release/nonstop/providers/nginx"
)

// TestKindsRegistered checks that the language knows every kind that has a
// factory, and no other: one providers.Register call makes both.
func TestKindsRegistered(t *testing.T) {
	want := []string{"aliyun_alb", "aliyun_slb", "f5", "haproxy", "nacos", "nginx"}
	if diff := cmp.Diff(want, lang.ProviderKinds()); diff != "" {
		t.Errorf("lang.ProviderKinds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(providers.Kinds(), lang.ProviderKinds()); diff != "" {
		t.Errorf("kinds with a factory (-) and kinds the language knows (+):\n%s", diff)
	}
}
