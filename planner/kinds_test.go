package planner

// The provider kinds the planner's tests declare: the planner asks each kind for
// its capabilities (drains by state, holds routes, confirms serving).
import (
	_ "github.com/nonstop-release/nonstop/providers/aliyun"
	_ "github.com/nonstop-release/nonstop/providers/f5"
	_ "github.com/nonstop-release/nonstop/providers/haproxy"
	_ "github.com/nonstop-release/nonstop/providers/nacos"
	_ "github.com/nonstop-release/nonstop/providers/nginx"
)
