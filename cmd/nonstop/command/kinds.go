package command

// The provider kinds this nonstop ships. Each package registers its kind from its
// kind.go (providers.Register): the block's schema, defaults and checks for the
// language, the factory, and the capabilities the planner asks about. Importing it
// here is what makes `provider "nginx" "edge"` work in a configuration; this is the
// one list, and a new kind is its folder plus one line here.
import (
	_ "github.com/nonstop-release/nonstop/providers/aliyun"
	_ "github.com/nonstop-release/nonstop/providers/f5"
	_ "github.com/nonstop-release/nonstop/providers/haproxy"
	_ "github.com/nonstop-release/nonstop/providers/nacos"
	_ "github.com/nonstop-release/nonstop/providers/nginx"
)
