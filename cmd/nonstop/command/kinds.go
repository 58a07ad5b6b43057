package command

// The provider kinds this nonstop knows register themselves in their package's init;
// importing them here is what makes `provider "nginx" "edge"` work in a configuration.
import (
	_ "github.com/nonstop-release/nonstop/providers/aliyun"
	_ "github.com/nonstop-release/nonstop/providers/f5"
	_ "github.com/nonstop-release/nonstop/providers/haproxy"
	_ "github.com/nonstop-release/nonstop/providers/nacos"
	_ "github.com/nonstop-release/nonstop/providers/nginx"
)
