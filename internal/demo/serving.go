package demo

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// ServingSource tells which members one client path really routes to right now.
type ServingSource struct {
	// Name is the path's name ("nginx", "haproxy", "registry").
	Name string
	// Members returns the addresses of the members the path sends new requests to.
	Members func() ([]string, error)
}

// HAProxyServing reads backend's servers from HAProxy's own runtime API (`show
// stat`, at "tcp://host:port" or "unix:///path"): a server counts while HAProxy
// has it UP by its checks (or it has none), not in drain or maintenance, and with
// a weight above zero.
func HAProxyServing(name, runtimeAPI, backend string) ServingSource {
	return ServingSource{Name: name, Members: func() ([]string, error) {
		srvs, err := fleet.HAProxyServers(runtimeAPI, backend)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, s := range srvs {
			if s.Serving() {
				out = append(out, s.Addr)
			}
		}
		return out, nil
	}}
}

// HAProxyChecksUp reads backend's servers from HAProxy's runtime API like
// HAProxyServing, but counts every server its health checks have up, whatever its
// admin state or weight: a drained member that answers its checks counts. It
// tells when HAProxy confirms a restarted member, before anyone readmits it.
func HAProxyChecksUp(name, runtimeAPI, backend string) ServingSource {
	return ServingSource{Name: name, Members: func() ([]string, error) {
		srvs, err := fleet.HAProxyServers(runtimeAPI, backend)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, s := range srvs {
			if s.ChecksUp() {
				out = append(out, s.Addr)
			}
		}
		return out, nil
	}}
}

// NginxServing reads pool's members from the upstreams file nonstop writes: a
// member counts unless it is `down` or has weight=0.
//
// Open-source nginx has no API that lists the upstream members it has loaded, so
// the file stands in for them. nonstop tests and reloads nginx after each write, so
// the file is what new requests see from the moment the reload completes (a few
// milliseconds after the write; workers of the previous generation only finish the
// requests they already hold).
func NginxServing(name, upstreamsFile, pool string) ServingSource {
	return ServingSource{Name: name, Members: func() ([]string, error) {
		return nginxMembers(upstreamsFile, pool)
	}}
}

// nginxMembers parses `upstream POOL { server ADDR [args]; ... }` in file.
func nginxMembers(file, pool string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	inPool, found := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(strings.ReplaceAll(line, ";", " ; "))
		switch {
		case len(fields) >= 3 && fields[0] == "upstream" && fields[2] == "{":
			inPool = strings.Trim(fields[1], `"'`) == pool
			found = found || inPool
		case inPool && len(fields) > 0 && fields[0] == "}":
			inPool = false
		case inPool && len(fields) >= 2 && fields[0] == "server":
			serving := true
			for _, a := range fields[2:] {
				if a == "down" || a == "weight=0" || a == "backup" {
					serving = false
				}
			}
			if serving {
				out = append(out, fields[1])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s has no upstream %s", file, pool)
	}
	return out, nil
}

// Serving returns a source that reads the consumer's current list: the healthy,
// enabled instances it picks from, as the registry last told it.
func (c *Consumer) Serving(name string) ServingSource {
	return ServingSource{Name: name, Members: func() ([]string, error) { return c.Instances(), nil }}
}

// Sampler records, every interval, which members each path routes to.
type Sampler struct {
	interval time.Duration
	paths    []*pathSampler
	stop     chan struct{}
	done     chan struct{}
}

type pathSampler struct {
	src ServingSource
	mu  sync.Mutex
	ps  PathServing
	cur []string // members at the last good sample
}

// PathServing is what the sampler saw on one path.
type PathServing struct {
	Name string
	// Min is the fewest members the path routed to in any sample, and MinAt the
	// time of the first sample with that few. Min is -1 when no sample succeeded.
	Min   int
	MinAt time.Time
	// Samples counts the samples taken, Errors those whose read failed (they are
	// left out of Min); LastError is the last failure's text.
	Samples, Errors int
	LastError       string
	// Changes is the timeline: the first sample, then every change of the set.
	Changes []ServingChange
}

// ServingChange is the set of members a path routed to from At on.
type ServingChange struct {
	At      time.Time
	Members []string
}

// StartSampler samples every source now and then every interval (100 ms is a
// good value) until Stop.
func StartSampler(interval time.Duration, sources ...ServingSource) *Sampler {
	s := &Sampler{interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
	for _, src := range sources {
		s.paths = append(s.paths, &pathSampler{src: src, ps: PathServing{Name: src.Name, Min: -1}})
	}
	go s.loop()
	return s
}

func (s *Sampler) loop() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		var wg sync.WaitGroup
		for _, p := range s.paths {
			wg.Add(1)
			go func() { defer wg.Done(); p.sample() }()
		}
		wg.Wait()
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

func (p *pathSampler) sample() {
	at := time.Now()
	members, err := p.src.Members()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ps.Samples++
	if err != nil {
		p.ps.Errors++
		p.ps.LastError = err.Error()
		return
	}
	members = slices.Clone(members)
	slices.Sort(members)
	if n := len(members); p.ps.Min < 0 || n < p.ps.Min {
		p.ps.Min, p.ps.MinAt = n, at
	}
	if len(p.ps.Changes) == 0 || !slices.Equal(members, p.cur) {
		p.ps.Changes = append(p.ps.Changes, ServingChange{At: at, Members: members})
		p.cur = members
	}
}

// Snapshot returns what every path saw so far, without stopping.
func (s *Sampler) Snapshot() []PathServing {
	out := make([]PathServing, 0, len(s.paths))
	for _, p := range s.paths {
		p.mu.Lock()
		ps := p.ps
		ps.Changes = slices.Clone(ps.Changes)
		p.mu.Unlock()
		out = append(out, ps)
	}
	return out
}

// Stop ends the sampling and returns what every path saw.
func (s *Sampler) Stop() []PathServing {
	close(s.stop)
	<-s.done
	return s.Snapshot()
}

// String renders "haproxy: min 3 at 12:00:05.100 (412 samples); 4, 3 at +5.1s, 4 at
// +7.0s": the timeline's member counts with the time since the first sample.
func (p PathServing) String() string {
	if p.Min < 0 {
		return fmt.Sprintf("%s: no good sample of %d (%s)", p.Name, p.Samples, p.LastError)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: min %d at %s (%d samples", p.Name, p.Min, p.MinAt.Format("15:04:05.000"), p.Samples)
	if p.Errors > 0 {
		fmt.Fprintf(&b, ", %d unreadable: %s", p.Errors, p.LastError)
	}
	b.WriteString(");")
	const maxShown = 40
	for i, c := range p.Changes {
		if i == maxShown {
			fmt.Fprintf(&b, " … (%d more changes)", len(p.Changes)-maxShown)
			break
		}
		if i == 0 {
			fmt.Fprintf(&b, " %d", len(c.Members))
			continue
		}
		fmt.Fprintf(&b, ", %d at +%.1fs", len(c.Members), c.At.Sub(p.Changes[0].At).Seconds())
	}
	return b.String()
}

// JoinedAfter returns the first time at or after t when member is in the path's
// set having been out of it (or is there from the first sample after t when it
// was never out), and whether it happened.
func (p PathServing) JoinedAfter(member string, t time.Time) (time.Time, bool) {
	wasOut := false
	for _, c := range p.Changes {
		in := slices.Contains(c.Members, member)
		if c.At.Before(t) {
			wasOut = !in
			continue
		}
		if !in {
			wasOut = true
			continue
		}
		if wasOut {
			return c.At, true
		}
	}
	return time.Time{}, false
}
