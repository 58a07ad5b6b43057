package command

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

const inspectHelp = `
Usage: nonstop inspect [options] [DIR]

  Reads the live state of every service declared in DIR (default: the current
  directory) and prints it: each declared instance as the registry sees it
  (registered, version, enabled, weight, healthy), the members of each balancer
  pool (weight, state, in-flight sessions) and the routes materialised on each
  balancer. It changes nothing.

  A version the registry does not reveal (Polaris hides the metadata of an
  isolated instance) is printed "unknown" (null with -json), never guessed.
  Sessions are "-" (null) where the load balancer cannot say.

Exit codes:
  0  the live state was read
  1  a provider could not be read, the configuration has errors, or the command
     was used wrongly
`

var inspectCommand = &Command{
	Name:     "inspect",
	Synopsis: "Show the live state of the declared services",
	Help:     inspectHelp,
	Run:      runInspect,
}

func runInspect(m *Meta, args []string) int {
	fs := m.FlagSet("inspect", inspectHelp)
	jsonOut := fs.Bool("json", false, "print the live state as JSON: {format_version, services: [{name, instances, balancers, routes}]}")
	var vars VarFlags
	vars.Register(fs)
	var lf liveFlags
	lf.Register(fs)
	if code, done := m.Parse(fs, args); done {
		return code
	}
	cfg, dir, ds, ok := m.loadLiveConfig(fs, vars, &lf)
	if !ok {
		return 1
	}
	provs, live, rds := m.openAndRefresh(context.Background(), cfg, lf.RefreshOptions())
	defer m.closeProviders(provs)
	ds = ds.Append(rds)
	m.ShowDiagnostics(ds, Sources(cfg, dir))
	if ds.HasErrors() {
		return 1
	}
	view := newInspectView(cfg, live, lf.services(cfg))
	if *jsonOut {
		if err := m.PrintJSON(view); err != nil {
			fmt.Fprintf(m.Stderr, "Error: cannot write the result: %v\n", err)
			return 1
		}
		return 0
	}
	writeInspectHuman(m.Stdout, view)
	return 0
}

// inspectView is the output of inspect, the shape of its -json.
type inspectView struct {
	FormatVersion string           `json:"format_version"`
	Services      []inspectService `json:"services"`
}

// inspectService is the live state of one declared service.
type inspectService struct {
	Name      string            `json:"name"`
	Instances []inspectInstance `json:"instances"`
	Balancers []inspectBalancer `json:"balancers"`
	Routes    []inspectRoute    `json:"routes"`
}

// inspectInstance is a declared instance as its registry reports it. Every field
// after Registered is null when the registry does not know the instance; Version
// is also null when the registry hides it.
type inspectInstance struct {
	Address    string   `json:"address"`
	Group      string   `json:"group"`
	Registered bool     `json:"registered"`
	Version    *string  `json:"version"`
	Enabled    *bool    `json:"enabled"`
	Weight     *float64 `json:"weight"`
	Healthy    *bool    `json:"healthy"`
}

// inspectBalancer is a balancer block's pool with every member the pool holds.
type inspectBalancer struct {
	Name     string          `json:"name"`
	Provider string          `json:"provider"`
	Pool     string          `json:"pool"`
	Members  []inspectMember `json:"members"`
}

// inspectMember is one pool member; Sessions is null where the LB cannot say.
type inspectMember struct {
	Address  string `json:"address"`
	Weight   int    `json:"weight"`
	State    string `json:"state"`
	Sessions *int   `json:"sessions"`
}

// inspectRoute is a route materialised on a balancer.
type inspectRoute struct {
	Balancer string               `json:"balancer"`
	Pool     string               `json:"pool"`
	Name     string               `json:"name"`
	Match    providers.RouteMatch `json:"match"`
	Version  string               `json:"version"`
	Members  []string             `json:"members"`
}

// newInspectView arranges the live state of the named services in configuration
// order: instances by group, balancers and routes by balancer block.
func newInspectView(cfg *lang.Config, live *planner.Live, names []string) inspectView {
	view := inspectView{FormatVersion: jsonFormatVersion, Services: []inspectService{}}
	for _, name := range names {
		svc := cfg.Services[name]
		ls := live.Services[name]
		if svc == nil || ls == nil {
			continue
		}
		out := inspectService{Name: name, Instances: []inspectInstance{}, Balancers: []inspectBalancer{}, Routes: []inspectRoute{}}
		for _, g := range svc.Groups {
			for _, addr := range g.Instances {
				out.Instances = append(out.Instances, inspectInstanceOf(g.Name, addr.String(), ls))
			}
		}
		for _, b := range svc.Balancers {
			ib := inspectBalancer{Name: b.Name, Provider: b.Provider.String(), Pool: b.Pool, Members: []inspectMember{}}
			for _, mem := range ls.Balancers[b.Name] {
				ib.Members = append(ib.Members, inspectMember{Address: mem.Address, Weight: mem.Weight,
					State: memberStateName(mem.State), Sessions: mem.Sessions})
			}
			out.Balancers = append(out.Balancers, ib)
			for _, r := range ls.Routes[b.Name] {
				out.Routes = append(out.Routes, inspectRoute{Balancer: b.Name, Pool: b.Pool, Name: r.Name,
					Match: r.Match, Version: r.Version, Members: append([]string{}, r.Members...)})
			}
		}
		view.Services = append(view.Services, out)
	}
	return view
}

func inspectInstanceOf(group, addr string, ls *planner.LiveService) inspectInstance {
	inst, ok := ls.Instances[addr]
	out := inspectInstance{Address: addr, Group: group, Registered: ok}
	if !ok {
		return out
	}
	if inst.VersionKnown {
		v := inst.Version
		out.Version = &v
	}
	enabled, weight, healthy := inst.Enabled, inst.Weight, inst.Healthy
	out.Enabled, out.Weight, out.Healthy = &enabled, &weight, &healthy
	return out
}

// memberStateName returns a member's state; an LB that reports none means ready.
func memberStateName(s providers.MemberState) string {
	if s == "" {
		return string(providers.StateReady)
	}
	return string(s)
}

// writeInspectHuman prints the view as one set of tables per service.
func writeInspectHuman(w io.Writer, view inspectView) {
	for i, s := range view.Services {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "service %q\n\n", s.Name)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  INSTANCE\tGROUP\tREGISTERED\tVERSION\tENABLED\tWEIGHT\tHEALTHY")
		for _, in := range s.Instances {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Address, in.Group, yesNo(&in.Registered),
				orUnknown(in.Version, in.Registered), yesNo(in.Enabled), floatOrDash(in.Weight), yesNo(in.Healthy))
		}
		tw.Flush()
		for _, b := range s.Balancers {
			fmt.Fprintf(w, "\n  balancer %q (%s, pool %s)\n", b.Name, b.Provider, b.Pool)
			if len(b.Members) == 0 {
				fmt.Fprintln(w, "    (no members)")
				continue
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "    MEMBER\tWEIGHT\tSTATE\tSESSIONS")
			for _, mem := range b.Members {
				sessions := "-"
				if mem.Sessions != nil {
					sessions = strconv.Itoa(*mem.Sessions)
				}
				fmt.Fprintf(tw, "    %s\t%d\t%s\t%s\n", mem.Address, mem.Weight, mem.State, sessions)
			}
			tw.Flush()
		}
		if len(s.Routes) > 0 {
			fmt.Fprintln(w, "\n  routes")
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "    NAME\tBALANCER\tVERSION\tMATCH\tMEMBERS")
			for _, r := range s.Routes {
				fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", r.Name, r.Balancer, r.Version, routeMatchText(r.Match),
					strings.Join(r.Members, ","))
			}
			tw.Flush()
		}
	}
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "-"
	case *b:
		return "yes"
	}
	return "no"
}

// orUnknown prints a version: "unknown" when a registered instance hides it, "-"
// when the instance is not registered.
func orUnknown(v *string, registered bool) string {
	switch {
	case v != nil:
		return *v
	case registered:
		return "unknown"
	}
	return "-"
}

func floatOrDash(f *float64) string {
	if f == nil {
		return "-"
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// routeMatchText prints a route match: "client_ip=10.8.0.0/16 header=X-Canary:1", or "any".
func routeMatchText(m providers.RouteMatch) string {
	if s := m.String(); s != "" {
		return s
	}
	return "any"
}
