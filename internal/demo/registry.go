package demo

import (
	"regexp"
	"slices"
	"time"
)

// A registry serves a write only after it reaches its listings: Polaris refreshes
// them from its store every second (hard-coded in v1.18.1), and consumers are
// pushed from them. nonstop's registry steps return once a listing shows the
// write, so no zero-downtime release can take a group out before the registry
// serves the disable of the one before, or start a propagation wait before the
// registry serves the disable it waits for. RegistryWrites measures that part of
// the physical minimum from the apply's own progress lines.

// registryDone matches an apply's progress line for a completed registry write:
// "registry.set_enabled order-service/a/127.0.0.1:41185: Complete after 357ms".
var registryDone = regexp.MustCompile(`registry\.set_(?:enabled|weight) [^/\s]+/([^/\s]+)/(\S+): Complete after (\S+)`)

// RegistryWrites returns, per group, how long the registry took to serve the
// writes that take the group out and bring it back, from an apply's progress
// output: the slowest first write of the group's instances plus the slowest last
// one (the instances of a group are written side by side). Writes in between (a
// canary's registry weights, written for both groups at once) are left out, so
// the sum stays a lower bound. Groups are in the order of their first write.
func RegistryWrites(out string) (groups []string, took map[string]time.Duration) {
	perInst := map[string][]time.Duration{} // by group + "|" + address
	groupOf := map[string]string{}
	var order []string
	for _, m := range registryDone.FindAllStringSubmatch(out, -1) {
		d, err := time.ParseDuration(m[3])
		if err != nil {
			continue
		}
		key := m[1] + "|" + m[2]
		if _, ok := perInst[key]; !ok {
			order = append(order, key)
		}
		perInst[key] = append(perInst[key], d)
		groupOf[key] = m[1]
	}
	took = map[string]time.Duration{}
	first, last := map[string]time.Duration{}, map[string]time.Duration{}
	for _, key := range order {
		g, ds := groupOf[key], perInst[key]
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
		first[g] = max(first[g], ds[0])
		if len(ds) > 1 {
			last[g] = max(last[g], ds[len(ds)-1])
		}
	}
	for _, g := range groups {
		took[g] = first[g] + last[g]
	}
	return groups, took
}

// RegistryFloor is RegistryWrites as floor terms, "registry a 0.9s", one per
// group in the order of their first write.
func RegistryFloor(out string) Floor {
	groups, took := RegistryWrites(out)
	f := make(Floor, 0, len(groups))
	for _, g := range groups {
		f = append(f, FloorTerm{What: "registry " + g, D: took[g]})
	}
	return f
}
