package command

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/planner"
)

// Plan prints the plan about to be approved, except with -json (where the
// progress events are the output).
func (v *applyView) Plan(p *planner.Plan) error {
	if v.json {
		return nil
	}
	if err := views.RenderPlan(v.m.Stdout, p); err != nil {
		return err
	}
	fmt.Fprintln(v.m.Stdout)
	return nil
}

// Approve asks for approval on a terminal; elsewhere it says how to approve.
func (v *applyView) Approve(p *planner.Plan) bool {
	if !v.m.stdinIsTerminal() {
		fmt.Fprintln(v.m.Stderr, "Error: no approval: stdin is not a terminal, so nonstop cannot ask.\n\n"+
			"Review the plan above and run \"nonstop apply -auto-approve\", or save a reviewed\n"+
			"plan with \"nonstop plan -out FILE\" and run \"nonstop apply FILE\".")
		return false
	}
	if !v.m.confirm("Do you want to perform these actions?",
		"  nonstop will perform the actions described above.\n  Only 'yes' will be accepted to approve.") {
		fmt.Fprintln(v.m.Stdout, "\nApply cancelled.")
		return false
	}
	return true
}

// say prints a message of apply: plain text, or with -json a log line in the
// shape of the progress events.
func (v *applyView) say(level, msg string) {
	if !v.json {
		fmt.Fprintln(v.m.Stdout, msg)
		return
	}
	line, _ := json.Marshal(map[string]any{
		"@level": level, "@message": strings.TrimSpace(msg), "@module": "nonstop.apply",
		"@timestamp": time.Now().Format(time.RFC3339Nano), "type": "log",
	})
	fmt.Fprintln(v.m.Stdout, string(line))
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
