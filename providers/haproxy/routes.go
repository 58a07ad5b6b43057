package haproxy

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/providers"
)

// routeMaps are the map files that hold routes, as haproxy.cfg names them.
type routeMaps struct {
	header string // map_str: "POOL/Header-Name=value" → "POOL__ROUTE|VERSION"
	ip     string // map_ip:  "CIDR" → "POOL__ROUTE|VERSION"
	number string // map_reg: "^POOL/SOURCE/NAME=0*(…)$" → "POOL__ROUTE|VERSION|SOURCE|NAME|GTE|LT" (numbers.go)
}

// mapEntry is one line of `show map`.
type mapEntry struct {
	ref   string // "#0x..." as del map and set map accept it
	key   string
	value string
}

var (
	namePattern  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	tokenPattern = regexp.MustCompile(`^[^\s;#|\\]+$`)
)

func validName(what, name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("invalid %s name %q: use letters, digits, \".\", \"-\" and \"_\"", what, name)
	}
	return nil
}

// routeBackend is the backend a route's traffic goes to; haproxy.cfg declares it
// with the pool's servers, because HAProxy cannot create backends at runtime.
func routeBackend(pool, name string) string { return pool + "__" + name }

// headerKey is the map_str key for a header route, as the frontend builds it with
// str(POOL/Header-Name=),concat(,txn.VAR,).
func headerKey(pool, header, value string) string {
	return pool + "/" + http.CanonicalHeaderKey(header) + "=" + value
}

// showMap lists a map's entries with one call.
func (h *HAProxy) showMap(ctx context.Context, file string) ([]mapEntry, error) {
	out, err := h.api.do(ctx, "show map "+file)
	if err != nil {
		return nil, h.errorf("map %s: %v", file, err)
	}
	var entries []mapEntry
	for _, l := range strings.Split(out, "\n") {
		if l == "" {
			continue
		}
		f := strings.SplitN(l, " ", 3)
		if len(f) != 3 || !strings.HasPrefix(f[0], "0x") {
			return nil, h.errorf("map %s: %s", file, firstLine(out))
		}
		entries = append(entries, mapEntry{ref: "#" + f[0], key: f[1], value: f[2]})
	}
	return entries, nil
}

// mapCommand runs add/set/del map; any answer is HAProxy's error.
func (h *HAProxy) mapCommand(ctx context.Context, cmd string) error {
	out, err := h.api.do(ctx, cmd)
	if err != nil {
		return h.errorf("%v", err)
	}
	if out != "" {
		return h.errorf("%s: %s", cmd, firstLine(out))
	}
	return nil
}

// Routes lists a pool's routes from the map entries that point at its route
// backends; members are the route backend's servers not in maintenance.
func (h *HAProxy) Routes(ctx context.Context, pool string) ([]providers.Route, error) {
	if _, err := h.servers(ctx, pool); err != nil {
		return nil, err
	}
	byName := map[string]*providers.Route{}
	route := func(value string) *providers.Route {
		backend, version, _ := strings.Cut(value, "|")
		version, _, _ = strings.Cut(version, "|") // a numeric entry carries its comparison after
		name, ok := strings.CutPrefix(backend, pool+"__")
		if !ok {
			return nil
		}
		r := byName[name]
		if r == nil {
			r = &providers.Route{Pool: pool, Name: name, Version: version}
			byName[name] = r
		}
		return r
	}
	if h.maps.header != "" {
		entries, err := h.showMap(ctx, h.maps.header)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			rest, ok := strings.CutPrefix(e.key, pool+"/")
			hdr, val, okEq := strings.Cut(rest, "=")
			if r := route(e.value); r != nil && ok && okEq {
				if r.Match.Header == nil {
					r.Match.Header = map[string]string{}
				}
				r.Match.Header[hdr] = val
			}
		}
	}
	if h.maps.ip != "" {
		entries, err := h.showMap(ctx, h.maps.ip)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if r := route(e.value); r != nil {
				r.Match.ClientIP = append(r.Match.ClientIP, e.key)
			}
		}
	}
	if h.maps.number != "" {
		entries, err := h.showMap(ctx, h.maps.number)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			r := route(e.value)
			if r == nil {
				continue
			}
			n, err := parseNumberEntry(pool, e)
			if err != nil {
				return nil, h.errorf("map %s: %v", h.maps.number, err)
			}
			r.Match.Numbers = providers.SortNumbers(append(r.Match.Numbers, n))
		}
	}
	out := make([]providers.Route, 0, len(byName))
	for _, r := range byName {
		srvs, err := h.servers(ctx, routeBackend(pool, r.Name))
		if err != nil {
			return nil, err
		}
		for _, s := range srvs {
			if s.admin&adminMaintMask == 0 {
				r.Members = append(r.Members, s.addr)
			}
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// routeEntries returns the map, keys and value that express r, or why it cannot be.
func (h *HAProxy) routeEntries(r providers.Route) (file string, keys []string, value string, err error) {
	value = routeBackend(r.Pool, r.Name) + "|" + r.Version
	if len(r.Match.Numbers) > 0 {
		file, key, value, err := h.numberEntry(r)
		return file, []string{key}, value, err
	}
	file, keys, err = h.valueEntries(r)
	return file, keys, value, err
}

// valueEntries returns the map and keys of a client-IP or header route.
func (h *HAProxy) valueEntries(r providers.Route) (file string, keys []string, err error) {
	hasIP, nHeaders := len(r.Match.ClientIP) > 0, len(r.Match.Header)
	switch {
	case hasIP && nHeaders > 0:
		return "", nil, fmt.Errorf("route %q matches client_ip and a header; HAProxy maps express one condition per route", r.Name)
	case nHeaders > 1:
		return "", nil, fmt.Errorf("route %q matches %d headers; HAProxy maps express one header per route", r.Name, nHeaders)
	case hasIP:
		if h.maps.ip == "" {
			return "", nil, fmt.Errorf("route %q matches client_ip but routes_ip_map is not set", r.Name)
		}
		for _, c := range r.Match.ClientIP {
			if !providers.ValidClientIP(c) {
				return "", nil, fmt.Errorf("route %q: invalid client_ip %q", r.Name, c)
			}
			keys = append(keys, c)
		}
		return h.maps.ip, keys, nil
	case nHeaders == 1:
		if h.maps.header == "" {
			return "", nil, fmt.Errorf("route %q matches a header but routes_map is not set", r.Name)
		}
		for hdr, val := range r.Match.Header {
			if !tokenPattern.MatchString(hdr) || strings.Contains(hdr, "=") || !tokenPattern.MatchString(val) {
				return "", nil, fmt.Errorf("route %q: header %q value %q cannot be a map key (no spaces, \";\", \"#\", \"|\", \"\\\")", r.Name, hdr, val)
			}
			keys = append(keys, headerKey(r.Pool, hdr, val))
		}
		return h.maps.header, keys, nil
	}
	return "", nil, fmt.Errorf("route %q matches nothing: give client_ip, header, query or cookie", r.Name)
}

// PutRoute points a route's map entries at its backend POOL__NAME, after putting
// the route's members there in ready state and every other server in maint.
func (h *HAProxy) PutRoute(ctx context.Context, r providers.Route) error {
	for what, n := range map[string]string{"pool": r.Pool, "route": r.Name, "version": r.Version} {
		if err := validName(what, n); err != nil {
			return h.errorf("%v", err)
		}
	}
	file, keys, value, err := h.routeEntries(r)
	if err != nil {
		return h.errorf("pool %q: %v", r.Pool, err)
	}
	if _, err := h.servers(ctx, r.Pool); err != nil {
		return err
	}
	backend := routeBackend(r.Pool, r.Name)
	srvs, err := h.servers(ctx, backend)
	if err != nil {
		return h.errorf("route %q: %v (declare backend %s in haproxy.cfg with the pool's servers)", r.Name, err, backend)
	}
	// Read the maps and refuse a conflict before changing anything.
	var writes, deletes []string
	for _, f := range h.maps.files() {
		entries, err := h.showMap(ctx, f)
		if err != nil {
			return err
		}
		if f == h.maps.number && len(r.Match.Numbers) > 0 {
			if err := overlapping(r, entries); err != nil {
				return h.errorf("%v", err)
			}
		}
		for _, e := range entries {
			ours := strings.HasPrefix(e.value, backend+"|")
			wanted := f == file && slices.Contains(keys, e.key)
			switch {
			case wanted && !ours:
				return h.errorf("route %q: map %s key %q already routes to %s", r.Name, f, e.key, e.value)
			case wanted && e.value != value:
				writes = append(writes, "set map "+f+" "+e.ref+" "+value)
			case !wanted && ours:
				deletes = append(deletes, "del map "+f+" "+e.ref)
			}
			if wanted {
				keys = slices.DeleteFunc(keys, func(k string) bool { return k == e.key })
			}
		}
	}
	for _, k := range keys {
		writes = append(writes, "add map "+file+" "+k+" "+value)
	}
	// Members first, and only once HAProxy's own checks have them UP (a server
	// that leaves maint starts its checks over): the entries never point at a
	// backend with no server to take the request (503 <NOSRV>). New entries before
	// stale ones go, so matching requests never fall through; servers that left
	// the route go to maint last.
	if err := h.placeMembers(ctx, backend, srvs, r.Members, true); err != nil {
		return err
	}
	if err := h.waitRouteUp(ctx, backend, r.Members); err != nil {
		return err
	}
	for _, cmd := range append(writes, deletes...) {
		if err := h.mapCommand(ctx, cmd); err != nil {
			return err
		}
	}
	return h.placeMembers(ctx, backend, srvs, r.Members, false)
}

// routeUpBound bounds how long PutRoute waits for HAProxy's checks to have a
// route's members UP in the route's backend.
const routeUpBound = 30 * time.Second

// waitRouteUp waits until HAProxy's checks have every member UP in backend, or,
// once routeUpBound passed, at least one; with none UP it fails, naming each
// member's state, and no request is routed there.
func (h *HAProxy) waitRouteUp(ctx context.Context, backend string, members []string) error {
	if len(members) == 0 {
		return nil
	}
	deadline := time.Now().Add(routeUpBound)
	for {
		srvs, err := h.servers(ctx, backend)
		if err != nil {
			return err
		}
		up, states := 0, make([]string, 0, len(members))
		for _, s := range srvs {
			if !slices.Contains(members, s.addr) && (s.fqdn == "" || !slices.Contains(members, s.fqdn)) {
				continue
			}
			if memberHealth(s) == providers.HealthUp {
				up++
			} else {
				states = append(states, s.addr+" down")
			}
		}
		switch {
		case up == len(members):
			return nil
		case !time.Now().Before(deadline) && up > 0:
			h.logger.Warn("route backend: some members are not UP by HAProxy's checks; routing to those that are",
				"backend", backend, "down", strings.Join(states, ", "))
			return nil
		case !time.Now().Before(deadline):
			return h.errorf("backend %q: no route member is UP by HAProxy's checks within %s (%s); the route's map entries were not changed",
				backend, routeUpBound, strings.Join(states, ", "))
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// placeMembers readies the route members in the route backend and puts the others
// in maintenance, so the route reaches exactly its members.
// With raise it only brings the route's members out of maint; without, it only
// puts the servers that are not members in maint.
func (h *HAProxy) placeMembers(ctx context.Context, backend string, srvs []server, members []string, raise bool) error {
	for _, addr := range members {
		if !slices.ContainsFunc(srvs, func(s server) bool { return s.addr == addr || s.fqdn == addr }) {
			return h.errorf("backend %q has no server with address %s for the route", backend, addr)
		}
	}
	for _, s := range srvs {
		member := slices.Contains(members, s.addr) || (s.fqdn != "" && slices.Contains(members, s.fqdn))
		inMaint := s.admin&adminMaintMask != 0
		var err error
		switch {
		case raise && member && inMaint:
			err = h.setServer(ctx, backend, s, "state", "state ready")
		case !raise && !member && !inMaint:
			err = h.setServer(ctx, backend, s, "state", "state maint")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// DeleteRoute removes a route's map entries; its backend then takes no traffic.
func (h *HAProxy) DeleteRoute(ctx context.Context, pool, name string) error {
	backend := routeBackend(pool, name)
	found := false
	for _, f := range h.maps.files() {
		entries, err := h.showMap(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if strings.HasPrefix(e.value, backend+"|") {
				found = true
				if err := h.mapCommand(ctx, "del map "+f+" "+e.ref); err != nil {
					return err
				}
			}
		}
	}
	if !found {
		return h.errorf("pool %q has no route %q", pool, name)
	}
	return nil
}

// files returns the configured map files.
func (m routeMaps) files() []string {
	var out []string
	for _, f := range []string{m.header, m.ip, m.number} {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}
