package views

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nonstop-release/nonstop/planner"
)

// DefaultMarkdownMaxChars keeps a markdown part under GitHub's 65,536-character limit
// on a comment body.
const DefaultMarkdownMaxChars = 65000

// minMarkdownMaxChars is the smallest part size RenderPlanMarkdown honours; smaller
// requests are raised to it so a part always has room for its headers.
const minMarkdownMaxChars = 1000

// RenderPlanMarkdown renders the plan as pull-request comments. The first line of the
// first part is the summary ("**Plan:** ..."); the changes (a diff code block, with
// "~" shown as "!" so GitHub colours updates) and the numbered steps follow in
// collapsible <details> blocks. When the text does not fit in maxChars (0 means
// DefaultMarkdownMaxChars) it is split into parts, each shorter than maxChars and
// headed "(part 2 of 3)"; a code block cut by a split is closed at the end of one part
// and reopened at the start of the next.
func RenderPlanMarkdown(p *planner.Plan, maxChars int) []string {
	if maxChars <= 0 {
		maxChars = DefaultMarkdownMaxChars
	}
	maxChars = max(maxChars, minMarkdownMaxChars)
	if !p.HasChanges() {
		return []string{"**Plan:** " + NoChangesMessage + "\n"}
	}
	summary := "**Plan:**" + strings.TrimPrefix(planSummaryLine(p.Summary), "Plan:") +
		" Estimated wall time: " + time.Duration(p.Summary.EstimatedWall).String() + "."
	header := func(k, n int) string {
		switch {
		case n == 1:
			return summary + "\n\n"
		case k == 1:
			return fmt.Sprintf("%s _(part 1 of %d)_\n\n", summary, n)
		}
		return fmt.Sprintf("**Plan (continued)** _(part %d of %d)_\n\n", k, n)
	}
	sections := markdownSections(p)

	// A header's length depends on the number of parts: split again, reserving room
	// for the headers of the last split, until the room reserved is enough.
	headerRoom := func(n int) int { return max(len(header(1, n)), len(header(n, n))) }
	reserve := headerRoom(1)
	var bodies []string
	for {
		bodies = splitMarkdownBodies(sections, maxChars-1-reserve)
		if need := headerRoom(len(bodies)); need > reserve {
			reserve = need
			continue
		}
		break
	}
	parts := make([]string, len(bodies))
	for i, body := range bodies {
		parts[i] = header(i+1, len(bodies)) + body
	}
	return parts
}

// markdownSection is a collapsible block holding one code block of lines.
type markdownSection struct {
	title string // "Changes (5)"
	lang  string // the code block's language: "diff", "text"
	lines []string
}

func markdownSections(p *planner.Plan) []markdownSection {
	var secs []markdownSection
	if lines := changeLines(p); len(lines) > 0 {
		for i, l := range lines {
			if strings.HasPrefix(l, "~") {
				lines[i] = "!" + l[1:]
			}
		}
		secs = append(secs, markdownSection{title: fmt.Sprintf("Changes (%d)", len(lines)), lang: "diff", lines: lines})
	}
	if len(p.Steps) > 0 {
		var lines []string
		for i, sec := range stepSections(p) {
			if i > 0 {
				lines = append(lines, "")
			}
			lines = append(lines, "# "+sec.service)
			lines = append(lines, sec.lines...)
		}
		secs = append(secs, markdownSection{title: fmt.Sprintf("Steps (%d)", len(p.Steps)), lang: "text", lines: lines})
	}
	return secs
}

// splitMarkdownBodies lays the sections out into bodies of at most budget bytes. A
// section cut by a split is closed and reopened with a "continued" title.
func splitMarkdownBodies(secs []markdownSection, budget int) []string {
	var (
		bodies []string
		cur    strings.Builder
	)
	flush := func() {
		bodies = append(bodies, cur.String())
		cur.Reset()
	}
	for _, sec := range secs {
		fence := codeFence(sec.lines)
		closing := fence + "\n\n</details>\n\n"
		opening := func(continued bool) string {
			title := sec.title
			if continued {
				title = strings.TrimSuffix(title, ")") + ", continued)"
			}
			return "<details><summary>" + title + "</summary>\n\n" + fence + sec.lang + "\n"
		}
		lineRoom := budget - len(opening(true)) - len(closing) - 1
		open, chunks := false, 0
		for _, line := range sec.lines {
			line = truncateLine(line, lineRoom)
			need := len(line) + 1 + len(closing)
			if !open {
				need += len(opening(chunks > 0))
			}
			if cur.Len()+need > budget && cur.Len() > 0 {
				if open {
					cur.WriteString(closing)
					open = false
				}
				flush()
			}
			if !open {
				cur.WriteString(opening(chunks > 0))
				open = true
				chunks++
			}
			cur.WriteString(line)
			cur.WriteString("\n")
		}
		if open {
			cur.WriteString(closing)
		}
	}
	if cur.Len() > 0 || len(bodies) == 0 {
		flush()
	}
	for i, b := range bodies {
		bodies[i] = strings.TrimRight(b, "\n") + "\n"
	}
	return bodies
}

// codeFence returns a backtick fence longer than any backtick run in lines, so no
// line can close the code block early.
func codeFence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, r := range l {
			if r == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// truncateLine shortens a line to at most room bytes, on a rune boundary, marking
// the cut with "…".
func truncateLine(line string, room int) string {
	if len(line) <= room {
		return line
	}
	const mark = "…"
	cut := max(room-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return line[:cut] + mark
}
