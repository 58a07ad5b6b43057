package command

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/nonstop-release/nonstop/planner"
)

// refresh opens the providers and reads the live state of targets, printing the
// diagnostics; ok is false when the live state could not be read.
func (a *applyRun) refresh(ctx context.Context, targets []string) (planner.Providers, *planner.Live, bool) {
	opts := a.flags.live.RefreshOptions()
	opts.Targets = targets
	provs, live, ds := a.m.openAndRefresh(ctx, a.cfg, opts)
	a.m.ShowDiagnostics(ds, Sources(a.cfg, a.dir))
	if ds.HasErrors() || live == nil {
		return provs, nil, false
	}
	return provs, live, true
}

// makePlan refreshes, plans, shows the plan and asks for approval. ok is false
// when apply must stop, with code its exit code (0: nothing to do).
func (a *applyRun) makePlan(ctx context.Context) (p *planner.Plan, provs planner.Providers, code int, ok bool) {
	provs, live, ok := a.refresh(ctx, a.flags.live.Targets)
	if !ok {
		return nil, provs, 1, false
	}
	p, ds := planner.MakePlan(a.cfg, live, planner.Options{
		Targets:       a.flags.live.Targets,
		Commit:        a.commit,
		KnownVersions: a.st.Deployed,
	})
	a.m.ShowDiagnostics(ds, Sources(a.cfg, a.dir))
	if ds.HasErrors() || p == nil {
		return nil, provs, 1, false
	}
	if !p.HasChanges() {
		a.say("info", planner.NoChangesMessage)
		return nil, provs, 0, false
	}
	if !a.flags.json {
		if err := planner.RenderHuman(a.m.Stdout, p); err != nil {
			fmt.Fprintf(a.m.Stderr, "Error: cannot print the plan: %v\n", err)
			return nil, provs, 1, false
		}
		fmt.Fprintln(a.m.Stdout)
	}
	if a.flags.autoApprove {
		return p, provs, 0, true
	}
	if !a.m.stdinIsTerminal() {
		fmt.Fprintln(a.m.Stderr, "Error: no approval: stdin is not a terminal, so nonstop cannot ask.\n\n"+
			"Review the plan above and run \"nonstop apply -auto-approve\", or save a reviewed\n"+
			"plan with \"nonstop plan -out FILE\" and run \"nonstop apply FILE\".")
		return nil, provs, 1, false
	}
	if !a.m.confirm("Do you want to perform these actions?",
		"  nonstop will perform the actions described above.\n  Only 'yes' will be accepted to approve.") {
		fmt.Fprintln(a.m.Stdout, "\nApply cancelled.")
		return nil, provs, 1, false
	}
	return p, provs, 0, true
}

// readPlan reads the plan file, checks it against the configuration and the live
// state, and refuses it when either changed since the plan was made.
func (a *applyRun) readPlan(ctx context.Context) (p *planner.Plan, provs planner.Providers, code int, ok bool) {
	pf, err := planner.OpenPlanFile(a.planFile)
	if err != nil {
		fmt.Fprintf(a.m.Stderr, "Error: cannot read the plan file: %v\n", err)
		return nil, nil, 1, false
	}
	if err := pf.CheckConfig(a.cfg); err != nil {
		fmt.Fprintf(a.m.Stderr, "Error: the plan file does not match the configuration: %v\n\nRun \"nonstop plan\" again.\n", err)
		return nil, nil, 1, false
	}
	p = pf.Plan
	provs, live, ok := a.refresh(ctx, planServices(p, a.flags.live.Targets))
	if !ok {
		return nil, provs, 1, false
	}
	if stale := staleObjects(p.Prior.Objects, live, a.knownVersions(p)...); len(stale) > 0 {
		fmt.Fprintf(a.m.Stderr, "Error: plan is stale: %s\n", strings.Join(stale, "; "))
		fmt.Fprintln(a.m.Stderr, "\nLive state changed since the plan was made, so its steps may no longer be safe.\n"+
			"Run \"nonstop plan\" again and review the new plan.")
		return nil, provs, 1, false
	}
	if !p.HasChanges() {
		a.say("info", planner.NoChangesMessage)
		return nil, provs, 0, false
	}
	return p, provs, 0, true
}

// planServices returns the services a plan read: those named in its fingerprints
// and steps, or the targets when it read none.
func planServices(p *planner.Plan, targets []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for key := range p.Prior.Objects {
		name, _, _ := strings.Cut(key, "/")
		add(name)
	}
	for _, s := range p.Steps {
		add(s.Service)
	}
	if len(out) == 0 {
		return targets
	}
	return out
}

// say prints a message of apply: plain text, or with -json a log line in the
// shape of the progress events.
func (a *applyRun) say(level, msg string) {
	if !a.flags.json {
		fmt.Fprintln(a.m.Stdout, msg)
		return
	}
	line, _ := json.Marshal(map[string]any{
		"@level": level, "@message": strings.TrimSpace(msg), "@module": "nonstop.apply",
		"@timestamp": time.Now().Format(time.RFC3339Nano), "type": "log",
	})
	fmt.Fprintln(a.m.Stdout, string(line))
}

// stdinIsTerminal reports whether stdin is a terminal someone can answer on.
func (m *Meta) stdinIsTerminal() bool {
	f, ok := m.Stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirm asks question with detail, the way Terraform does, and reports whether
// the answer was exactly "yes".
func (m *Meta) confirm(question, detail string) bool {
	fmt.Fprintf(m.Stdout, "%s\n%s\n\n  Enter a value: ", m.colorize("\x1b[1m", question), detail)
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(m.Stdout)
		return false
	}
	return strings.TrimSpace(line) == "yes"
}
