package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/nonstop-release/nonstop/providers"
)

// appendServiceDiff appends to out the field-level changes between the live state
// before the plan and the state the plan leaves: what a reviewer reads. Transient
// states inside the plan (a member drained and restored) are not changes.
func appendServiceDiff(out []Change, start, final *serviceModel) []Change {
	var box stringBoxes
	add := func(action Action, object, addr, field string, before, after any) {
		out = append(out, Change{Action: action, Service: start.name, Object: object, Address: addr,
			Field: field, Before: before, After: after})
	}
	for i, s := range start.insts {
		f := final.insts[i]
		// The address "group/host:port" is the tail of the target "service/group/host:port".
		addr := s.target[len(start.name)+1:]
		if f.known && !s.atVersion(f.version) {
			var before any
			if s.known {
				before = box.of(s.version)
			}
			add(Update, "instance", addr, "version", before, box.of(f.version))
		}
		if start.registry && !s.registered && f.registered {
			add(Update, "instance", addr, "registered", false, true)
		}
		if start.registry && f.registered {
			if s.registered && s.enabled != f.enabled || !s.registered && f.enabled {
				add(Update, "instance", addr, "enabled", s.registered && s.enabled, f.enabled)
			}
			if s.registered && s.regWeight != f.regWeight {
				add(Update, "instance", addr, "weight", s.regWeight, f.regWeight)
			}
		}
		for bi, sm := range s.members {
			fm := f.members[bi]
			name := sm.name
			if sm.weight != fm.weight {
				add(Update, "member", name, "weight", sm.weight, fm.weight)
			}
			if sm.state != fm.state {
				add(Update, "member", name, "state", box.of(string(sm.state)), box.of(string(fm.state)))
			}
		}
	}
	for bi, sb := range start.bals {
		fb := final.bals[bi]
		if len(sb.routes) == 0 && len(fb.routes) == 0 {
			continue
		}
		names := slices.Sorted(maps.Keys(sb.routes))
		for n := range fb.routes {
			if sb.routes[n] == nil {
				names = append(names, n)
			}
		}
		for _, n := range names {
			out = append(out, routeChanges(start.name, routeKey(sb, n), sb.routes[n], fb.routes[n])...)
		}
	}
	return out
}

// stringBoxes hands out strings as interface values, reusing the value of a string
// it boxed recently: a plan's changes repeat a few versions and states thousands
// of times, and boxing each would allocate.
type stringBoxes struct {
	recent [4]any
	next   int
}

// of returns s as an interface value.
func (b *stringBoxes) of(s string) any {
	for _, v := range b.recent {
		if v != nil && v.(string) == s {
			return v
		}
	}
	v := any(s)
	b.recent[b.next] = v
	b.next = (b.next + 1) % len(b.recent)
	return v
}

// routeChanges lists the changed fields of one route: version, members and match.
func routeChanges(service, addr string, before, after *providers.Route) []Change {
	action := Update
	switch {
	case before == nil && after == nil:
		return nil
	case before == nil:
		action, before = Create, &providers.Route{}
	case after == nil:
		action, after = Delete, &providers.Route{}
	case routeEqual(before, after):
		return nil
	}
	var out []Change
	field := func(name string, differ bool, b, a any) {
		if differ {
			if action == Create {
				b = nil
			}
			if action == Delete {
				a = nil
			}
			out = append(out, Change{Action: action, Service: service, Object: "route", Address: addr, Field: name, Before: b, After: a})
		}
	}
	field("version", before.Version != after.Version, before.Version, after.Version)
	field("members", !sameSet(before.Members, after.Members), before.Members, after.Members)
	field("match", !before.Match.Equal(after.Match), before.Match, after.Match)
	return out
}

// summarize counts the plan's changes and estimates its wall-clock time.
func summarize(p *Plan, after [][]int32) Summary {
	var s Summary
	routes := map[string]bool{}
	for _, c := range p.Changes {
		switch {
		case c.Object == "route":
			routes[c.Service+" "+c.Address] = true
		case c.Field == "version":
			s.Upgrades++
		case c.Field == "weight":
			s.WeightChanges++
		default:
			s.OtherChanges++
		}
	}
	s.RouteChanges = len(routes)
	s.EstimatedWall = Duration(criticalWait(p.Steps, after))
	return s
}

// criticalWait is the longest path through the steps counting only the time nonstop
// itself waits: propagation waits, drain bounds and timed pauses. How long deploys
// and health checks take is unknown before they run, so they count as zero; a pause
// until resumed counts as zero too. Steps come after the steps they wait for.
func criticalWait(steps []Step, after [][]int32) time.Duration {
	finish := make([]time.Duration, len(steps))
	var longest time.Duration
	for i, s := range steps {
		var begin time.Duration
		for _, j := range after[i] {
			begin = max(begin, finish[j])
		}
		switch s.Kind {
		case WaitPropagation, WaitDrain, Pause:
			begin += s.Args.Hold()
		}
		finish[i] = begin
		longest = max(longest, begin)
	}
	return longest
}

// Fingerprints hashes every live object — registry instance, balancer member and
// route — so that apply can refuse a plan whose inputs changed. Keys are
// "service/instance/address", "service/member/balancer/address" and
// "service/route/balancer/name"; values are "sha256:" and the hex digest.
func Fingerprints(live *Live) map[string]string {
	if live == nil {
		return map[string]string{}
	}
	n := 0
	for _, ls := range live.Services {
		if ls == nil {
			continue
		}
		n += len(ls.Instances)
		for _, members := range ls.Balancers {
			n += len(members)
		}
		for _, routes := range ls.Routes {
			n += len(routes)
		}
		n += len(ls.Gateways)
	}
	out := make(map[string]string, n)
	var fp fingerprinter
	for name, ls := range live.Services {
		if ls == nil {
			continue
		}
		fp.service(out, name, ls)
	}
	return out
}

// fingerprinter hashes the objects of one service at a time. The keys and values of
// a service are cut from one string each, so a thousand services cost a few
// thousand allocations rather than one per object.
type fingerprinter struct {
	enc, keys, vals []byte
	ends            []int32 // end of each key in keys; the values are all hashLen long
}

// hashLen is the length of a fingerprint, "sha256:" and 64 hex digits.
const hashLen = len("sha256:") + 2*sha256.Size

// add records one object: its key, written by key, and the hash of its encoding.
func (f *fingerprinter) add(enc []byte) {
	f.enc = enc
	sum := sha256.Sum256(enc)
	f.vals = hex.AppendEncode(append(f.vals, "sha256:"...), sum[:])
	f.ends = append(f.ends, int32(len(f.keys)))
}

// service adds the fingerprints of one service's objects to out.
func (f *fingerprinter) service(out map[string]string, name string, ls *LiveService) {
	f.keys, f.vals, f.ends = f.keys[:0], f.vals[:0], f.ends[:0]
	// key writes "name/kind/id" or, with a balancer, "name/kind/bal/id".
	key := func(kind string, withBal bool, bal, id string) {
		f.keys = append(append(f.keys, name...), '/')
		f.keys = append(append(f.keys, kind...), '/')
		if withBal {
			f.keys = append(append(f.keys, bal...), '/')
		}
		f.keys = append(f.keys, id...)
	}
	for addr, inst := range ls.Instances {
		key("instance", false, "", addr)
		f.add(appendInstance(f.enc[:0], inst))
	}
	for bal, members := range ls.Balancers {
		for i := range members {
			key("member", true, bal, members[i].Address)
			f.add(appendMember(f.enc[:0], members[i]))
		}
	}
	for bal, routes := range ls.Routes {
		for _, r := range routes {
			key("route", true, bal, r.Name)
			j, _ := json.Marshal(r) // routes are few; JSON sorts the header map
			f.add(append(f.enc[:0], j...))
		}
	}
	for name, gw := range ls.Gateways {
		key("gateway", false, "", name)
		f.add(appendGateway(f.enc[:0], gw))
	}
	keys, vals := string(f.keys), string(f.vals)
	begin := int32(0)
	for i, end := range f.ends {
		out[keys[begin:end]] = vals[i*hashLen : (i+1)*hashLen]
		begin = end
	}
}

// appendInstance encodes the fields of an instance that matter to a plan.
func appendInstance(b []byte, in providers.Instance) []byte {
	b = append(b, in.Service...)
	b = append(b, 0)
	b = append(b, in.Group...)
	b = append(b, 0)
	b = append(b, in.Cluster...)
	b = append(b, 0)
	b = append(b, in.Address...)
	b = append(b, 0)
	b = strconv.AppendBool(b, in.Enabled)
	b = strconv.AppendBool(b, in.Healthy)
	b = strconv.AppendFloat(b, in.Weight, 'g', -1, 64)
	b = append(b, 0)
	b = strconv.AppendBool(b, in.VersionKnown)
	b = append(b, in.Version...)
	keys := make([]string, 0, 4)
	for k := range in.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = append(b, 0)
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, in.Metadata[k]...)
	}
	return b
}

// appendMember encodes a member's pool, address, weight and state. Sessions are left
// out: they change all the time and do not make a plan stale.
func appendMember(b []byte, m providers.Member) []byte {
	b = append(b, m.Pool...)
	b = append(b, 0)
	b = append(b, m.Address...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(m.Weight), 10)
	b = append(b, 0)
	return append(b, m.State...)
}
