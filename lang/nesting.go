package lang

import (
	"bytes"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// MaxNesting is how deeply an HCL source may nest before nonstop refuses it
// unparsed. The HCL parser recurses once per level, so 100,000 "[" exhaust
// the stack; real configurations stay far below 100.
//
// A level is a bracket, brace or parenthesis, a template interpolation "${" or
// directive "%{", an open template "if" or "for" directive, and each link of
// a chain the parser also recurses on: consecutive unary operators ("!", "-"),
// conditionals ("?") and splats ("[*]", ".*") within one expression.
const MaxNesting = 100

// CheckNesting scans src, an HCL file or expression named filename, and
// reports an error at the first place it nests more than MaxNesting levels
// deep. It works on bytes, before parsing, in one pass: comments and the
// literal text of strings and heredocs do not count. It reads src as the HCL
// scanner does as far as nesting goes and approximates the rest (a malformed
// file is the parser's to report).
func CheckNesting(src []byte, filename string) diags.Diagnostics {
	s := nestScanner{src: src}
	at := s.scan()
	if at < 0 {
		return nil
	}
	pos := positionAt(src, at)
	rng := hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: pos.Line, Column: pos.Column + 1, Byte: pos.Byte + 1}}
	return diags.Diagnostics{diags.Errorf(&rng, "Configuration nested too deeply",
		"This point lies more than %d levels deep in brackets, braces, parentheses, template interpolations or chained operators. "+
			"nonstop refuses such input before parsing it, so that no file can crash it; split the expression, for example into locals.",
		MaxNesting)}
}

// frameKind says what opened a nesting frame.
type frameKind byte

const (
	frameTop     frameKind = iota // the file itself
	frameBrace                    // { }: block bodies and objects; newlines separate items
	frameBracket                  // [ ]
	frameParen                    // ( )
	frameInterp                   // ${ } or %{ }: code inside a template
	frameString                   // "...": a quoted template
	frameHeredoc                  // <<EOF ... EOF: a heredoc template
)

// frame is one open level of the scan.
type frame struct {
	kind frameKind
	// chain counts the conditionals and splats of the current item (code) or the
	// open if/for directives (templates).
	chain int
	// unary counts the consecutive unary operators just seen.
	unary int
	// marker ends a heredoc.
	marker []byte
}

// levels is what f adds to the nesting depth.
func (f *frame) levels() int {
	n := f.chain + f.unary
	if f.kind != frameTop && f.kind != frameString && f.kind != frameHeredoc {
		n++
	}
	return n
}

// nestScanner tracks the open frames and the total depth while it scans.
type nestScanner struct {
	src    []byte
	stack  []frame
	depth  int
	lastOp bool // the last significant byte of code could precede a unary operator
}

// scan returns the offset at which the depth first exceeds MaxNesting, or -1.
func (s *nestScanner) scan() int {
	s.stack = []frame{{kind: frameTop}}
	s.lastOp = true
	for i := 0; i < len(s.src); {
		var next int
		switch top := &s.stack[len(s.stack)-1]; top.kind {
		case frameString:
			next = s.stringByte(i)
		case frameHeredoc:
			next = s.heredocByte(i, top)
		default:
			next = s.codeByte(i, top)
		}
		if s.depth > MaxNesting {
			return i
		}
		i = next
	}
	return -1
}

func (s *nestScanner) push(f frame) {
	s.stack = append(s.stack, f)
	s.depth += f.levels()
}

func (s *nestScanner) pop() {
	if len(s.stack) == 1 {
		return // a stray closer: the parser reports it
	}
	s.depth -= s.stack[len(s.stack)-1].levels()
	s.stack = s.stack[:len(s.stack)-1]
}

// addChain adds n to the top frame's chain, never below zero.
func (s *nestScanner) addChain(f *frame, n int) {
	if f.chain+n < 0 {
		n = -f.chain
	}
	f.chain += n
	s.depth += n
}

// endItem forgets the chains of the item that just ended in f.
func (s *nestScanner) endItem(f *frame) {
	s.depth -= f.chain + f.unary
	f.chain, f.unary = 0, 0
}

// codeByte scans code at i and returns where to go on.
func (s *nestScanner) codeByte(i int, top *frame) int {
	c := s.src[i]
	switch {
	case c == ' ' || c == '\t' || c == '\r':
		return i + 1
	case c == '\n':
		if top.kind == frameTop || top.kind == frameBrace {
			s.endItem(top)
			s.lastOp = true
		}
		return i + 1
	case c == '#' || (c == '/' && s.at(i+1, '/')):
		if j := bytes.IndexByte(s.src[i:], '\n'); j >= 0 {
			return i + j
		}
		return len(s.src)
	case c == '/' && s.at(i+1, '*'):
		if j := bytes.Index(s.src[i+2:], []byte("*/")); j >= 0 {
			return i + 2 + j + 2
		}
		return len(s.src)
	}
	// Everything below is significant: it ends a run of unary operators unless
	// it is one.
	unary := c == '!' && !s.at(i+1, '=') || c == '-' && s.lastOp
	if !unary && top.unary > 0 {
		s.depth -= top.unary
		top.unary = 0
	}
	next, op := i+1, false
	switch c {
	case '!', '-':
		if unary {
			top.unary++
			s.depth++
		}
		op = true
	case '"':
		s.push(frame{kind: frameString})
	case '<':
		if marker, end, ok := heredocStart(s.src, i); ok {
			s.push(frame{kind: frameHeredoc, marker: marker})
			return end
		}
		op = true
	case '{':
		s.push(frame{kind: frameBrace})
		op = true
	case '(':
		s.push(frame{kind: frameParen})
		op = true
	case '[':
		if j := s.skipBlank(i + 1); s.at(j, '*') && s.at(s.skipBlank(j+1), ']') {
			s.addChain(top, 1) // a splat
			next = s.skipBlank(j+1) + 1
			break
		}
		s.push(frame{kind: frameBracket})
		op = true
	case '}', ']', ')':
		s.pop()
	case '.':
		if s.at(i+1, '*') {
			s.addChain(top, 1)
			next = i + 2
		}
	case '?':
		s.addChain(top, 1)
		op = true
	case ',':
		s.endItem(top)
		op = true
	case '=', ':', '+', '*', '/', '%', '>', '&', '|':
		op = true
	}
	s.lastOp = op
	return next
}

// stringByte scans a quoted template at i.
func (s *nestScanner) stringByte(i int) int {
	switch c := s.src[i]; c {
	case '\\':
		return i + 2
	case '"':
		s.pop()
		s.lastOp = false
		return i + 1
	case '\n':
		s.pop() // an unterminated string: the parser reports it
		return i
	}
	return s.templateByte(i, &s.stack[len(s.stack)-1])
}

// heredocByte scans a heredoc template at i, which ends at a line holding only
// its marker.
func (s *nestScanner) heredocByte(i int, top *frame) int {
	if i == 0 || s.src[i-1] == '\n' {
		end := bytes.IndexByte(s.src[i:], '\n')
		if end < 0 {
			end = len(s.src) - i
		}
		if bytes.Equal(bytes.TrimSpace(s.src[i:i+end]), top.marker) {
			s.pop()
			s.lastOp = false
			return i + len(bytes.TrimRight(s.src[i:i+end], " \t\r"))
		}
	}
	return s.templateByte(i, top)
}

// templateByte scans the text of a template (quoted or heredoc) at i: "${" and
// "%{" open code, "$${" and "%%{" are literal, and if/for directives nest.
func (s *nestScanner) templateByte(i int, top *frame) int {
	c := s.src[i]
	if (c == '$' || c == '%') && s.at(i+1, c) && s.at(i+2, '{') {
		return i + 3
	}
	if (c != '$' && c != '%') || !s.at(i+1, '{') {
		return i + 1
	}
	if c == '%' {
		j := i + 2
		for j < len(s.src) && (s.src[j] == '~' || s.src[j] == ' ' || s.src[j] == '\t') {
			j++
		}
		switch word := s.src[j:min(j+6, len(s.src))]; {
		case bytes.HasPrefix(word, []byte("if")), bytes.HasPrefix(word, []byte("for")):
			s.addChain(top, 1)
		case bytes.HasPrefix(word, []byte("endif")), bytes.HasPrefix(word, []byte("endfor")):
			s.addChain(top, -1)
		}
	}
	s.push(frame{kind: frameInterp})
	s.lastOp = true
	return i + 2
}

// heredocStart reports whether a heredoc ("<<EOF" or "<<-EOF" then a newline)
// starts at i, returning its marker and where its first line starts.
func heredocStart(src []byte, i int) (marker []byte, end int, ok bool) {
	j := i + 2
	if j > len(src) || src[i+1] != '<' {
		return nil, 0, false
	}
	if j < len(src) && src[j] == '-' {
		j++
	}
	k := j
	for k < len(src) && (isWordByte(src[k]) || src[k] == '-') {
		k++
	}
	if k == j {
		return nil, 0, false
	}
	nl := k
	if nl < len(src) && src[nl] == '\r' {
		nl++
	}
	if nl >= len(src) || src[nl] != '\n' {
		return nil, 0, false
	}
	return src[j:k], nl + 1, true
}

// at reports whether src[i] is c.
func (s *nestScanner) at(i int, c byte) bool { return i < len(s.src) && s.src[i] == c }

// skipBlank returns the first offset from i that is not a space or a tab.
func (s *nestScanner) skipBlank(i int) int {
	for i < len(s.src) && (s.src[i] == ' ' || s.src[i] == '\t') {
		i++
	}
	return i
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// positionAt returns the line, column (in characters) and byte of offset.
func positionAt(src []byte, offset int) hcl.Pos {
	line, start := 1, 0
	for i := 0; i < offset; i++ {
		if src[i] == '\n' {
			line, start = line+1, i+1
		}
	}
	col := 1 + utf8.RuneCount(src[start:offset])
	return hcl.Pos{Line: line, Column: col, Byte: offset}
}
