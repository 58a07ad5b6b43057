package demo

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Floor is a physical minimum written as a sum of named terms, e.g. propagation
// 4s + confirm of group a 6.3s + ...: the time a release cannot beat whatever
// tool runs it, given the fleet (how long consumers cache instance lists, how
// long an instance takes from its deploy's start until the balancers' checks
// have it up again) and what the configuration asks for (canary pauses).
type Floor []FloorTerm

// FloorTerm is one term of a Floor.
type FloorTerm struct {
	What string        `json:"what"`
	D    time.Duration `json:"-"`
}

// Total sums the terms.
func (f Floor) Total() time.Duration {
	var t time.Duration
	for _, term := range f {
		t += term.D
	}
	return t
}

// String renders "propagation 4s + confirm a 6.29s".
func (f Floor) String() string {
	parts := make([]string, len(f))
	for i, t := range f {
		parts[i] = fmt.Sprintf("%s %s", t.What, t.D.Round(10*time.Millisecond))
	}
	return strings.Join(parts, " + ")
}

// Ratio is wall ÷ Total, 0 when the total is zero.
func (f Floor) Ratio(wall time.Duration) float64 {
	if f.Total() <= 0 {
		return 0
	}
	return wall.Seconds() / f.Total().Seconds()
}

// Result is one release measured under load: what the clients saw on each path
// while it ran, and its wall time against its physical minimum.
type Result struct {
	Name    string `json:"name"`
	Tool    string `json:"tool,omitempty"`
	From    string `json:"from"`
	To      string `json:"to"`
	Outcome string `json:"outcome"`
	// Paths holds each client path's counts during the release.
	Paths []PathResult `json:"paths"`
	// All merges the paths.
	Requests int64   `json:"requests"`
	Failed   int64   `json:"failed"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	// IdleP99ms is the p99 of every path just before the release, under the same
	// load.
	IdleP99ms float64 `json:"idle_p99_ms,omitempty"`
	// Wall is the release's wall time, Minimum its physical minimum.
	WallS    float64 `json:"wall_s"`
	MinimumS float64 `json:"minimum_s,omitempty"`
	Ratio    float64 `json:"wall_over_minimum,omitempty"`
	// MinimumTerms says what the minimum is made of.
	MinimumTerms string `json:"minimum_terms,omitempty"`
	Note         string `json:"note,omitempty"`
}

// PathResult is one client path's part of a Result.
type PathResult struct {
	Name     string         `json:"name"`
	Requests int64          `json:"requests"`
	Failed   int64          `json:"failed"`
	P50ms    float64        `json:"p50_ms"`
	P99ms    float64        `json:"p99_ms"`
	Versions map[string]int `json:"versions,omitempty"`
}

// NewResult builds a Result from the counts of a release's window, the idle
// counts before it (nil when not measured), its wall time and its floor.
func NewResult(name string, counts, idle []Counts, wall time.Duration, floor Floor) Result {
	r := Result{Name: name, WallS: round3(wall.Seconds())}
	for _, c := range counts {
		r.Paths = append(r.Paths, PathResult{Name: c.Name, Requests: c.Sent(), Failed: c.Failed,
			P50ms: ms(c.P50), P99ms: ms(c.P99), Versions: c.Versions})
	}
	all := Merge("all", counts...)
	r.Requests, r.Failed, r.P50ms, r.P99ms = all.Sent(), all.Failed, ms(all.P50), ms(all.P99)
	if len(idle) > 0 {
		r.IdleP99ms = ms(Merge("idle", idle...).P99)
	}
	if t := floor.Total(); t > 0 {
		r.MinimumS = round3(t.Seconds())
		r.Ratio = round3(floor.Ratio(wall))
		r.MinimumTerms = floor.String()
	}
	return r
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/100) / 10 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// Table renders results as a Markdown table: requests, failed per path, p50 and
// p99 of every path together (with the idle p99 before the release), wall time,
// the physical minimum and their ratio. first names the first column.
func Table(first string, results []Result) string {
	var pathNames []string
	seen := map[string]bool{}
	for _, r := range results {
		for _, p := range r.Paths {
			if !seen[p.Name] {
				seen[p.Name] = true
				pathNames = append(pathNames, p.Name)
			}
		}
	}
	short := make([]string, len(pathNames))
	for i, n := range pathNames {
		short[i] = strings.TrimPrefix(n, "via ")
	}
	header := []string{first, "requests", "failed (" + strings.Join(short, " / ") + ")", "p50", "p99 (idle p99)", "wall", "minimum", "wall ÷ min"}
	rows := [][]string{header}
	for _, r := range results {
		failed := make([]string, len(pathNames))
		for i, n := range pathNames {
			failed[i] = "-"
			for _, p := range r.Paths {
				if p.Name == n {
					failed[i] = fmt.Sprint(p.Failed)
				}
			}
		}
		p99 := fmt.Sprintf("%.1f ms", r.P99ms)
		if r.IdleP99ms > 0 {
			p99 += fmt.Sprintf(" (%.1f)", r.IdleP99ms)
		}
		minimum, ratio := "-", "-"
		if r.MinimumS > 0 {
			minimum, ratio = fmt.Sprintf("%.1f s", r.MinimumS), fmt.Sprintf("%.2f", r.Ratio)
		}
		name := r.Name
		if r.Outcome != "" && r.Outcome != "success" {
			name += " (" + r.Outcome + ")"
		}
		rows = append(rows, []string{name, fmt.Sprint(r.Requests), strings.Join(failed, " / "),
			fmt.Sprintf("%.1f ms", r.P50ms), p99, fmt.Sprintf("%.1f s", r.WallS), minimum, ratio})
	}
	widths := make([]int, len(header))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		b.WriteString("|")
		for i, cell := range row {
			pad := widths[i] - len([]rune(cell))
			if i == 0 {
				b.WriteString(" " + cell + strings.Repeat(" ", pad) + " |")
			} else {
				b.WriteString(" " + strings.Repeat(" ", pad) + cell + " |")
			}
		}
		b.WriteString("\n")
	}
	line(rows[0])
	b.WriteString("|")
	for i, w := range widths {
		if i == 0 {
			b.WriteString(" " + strings.Repeat("-", w) + " |")
		} else {
			b.WriteString(" " + strings.Repeat("-", w-1) + ": |")
		}
	}
	b.WriteString("\n")
	for _, row := range rows[1:] {
		line(row)
	}
	return b.String()
}
