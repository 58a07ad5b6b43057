package operation

// The provider kinds this package's test configurations declare: the language
// knows only the kinds that registered.
import (
	_ "github.com/nonstop-release/nonstop/providers/nacos"
	_ "github.com/nonstop-release/nonstop/providers/nginx"
)
