package operation

import (
	"strings"

	"github.com/nonstop-release/nonstop/planner"
)

// StaleError refuses a plan file whose live inputs changed since it was made.
type StaleError struct {
	// Objects are the differences, by value: each names the object, the field and
	// both values.
	Objects []planner.StaleObject
}

// Error returns "plan is stale: " and the differences, separated by "; ":
// "plan is stale: shop 127.0.0.1:18082 weight on balancer http changed from 1 to
// 3 since the plan was made".
func (e *StaleError) Error() string {
	texts := make([]string, len(e.Objects))
	for i, o := range e.Objects {
		texts[i] = o.String()
	}
	return "plan is stale: " + strings.Join(texts, "; ")
}
