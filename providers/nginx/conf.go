package nginx

import (
	"fmt"
	"strings"
)

// directive is one nginx directive as written: its name, unquoted arguments, its
// block when it has one, and the comments around it.
type directive struct {
	Name     string
	Args     []string
	HasBlock bool
	Block    []*directive
	Line     int
	// Comment is the text of a comment on the line where the directive ends (after
	// its ";" or "{"), without the "#".
	Comment string
	// Leading holds comment lines directly above the directive, without the "#".
	Leading []string
}

// token is a word, a quoted string, a comment or one of "{", "}", ";".
type token struct {
	text    string
	line    int
	quoted  bool
	comment bool
}

// special reports whether tok is the unquoted punctuation p.
func (t token) special(p string) bool { return !t.quoted && !t.comment && t.text == p }

// parseConf parses nginx configuration text into directives. It understands the
// whole grammar (blocks, quotes, escapes, comments) but no directive's meaning.
func parseConf(src string) ([]*directive, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &confParser{toks: toks}
	ds, err := p.block(false)
	if err != nil {
		return nil, err
	}
	return ds, nil
}

type confParser struct {
	toks []token
	pos  int
}

func (p *confParser) block(nested bool) ([]*directive, error) {
	var out []*directive
	var leading []string
	lastEnd := -1 // line where the previous directive ended
	var last *directive
	for p.pos < len(p.toks) {
		t := p.toks[p.pos]
		switch {
		case t.comment:
			p.pos++
			if last != nil && t.line == lastEnd {
				last.Comment = t.text
				continue
			}
			leading = append(leading, t.text)
		case t.special("}"):
			if !nested {
				return nil, fmt.Errorf("line %d: unexpected \"}\"", t.line)
			}
			p.pos++
			return out, nil
		case t.special("{") || t.special(";"):
			return nil, fmt.Errorf("line %d: unexpected %q", t.line, t.text)
		default:
			d, err := p.directive()
			if err != nil {
				return nil, err
			}
			d.Leading, leading = leading, nil
			out = append(out, d)
			last, lastEnd = d, p.toks[p.pos-1].line
		}
	}
	if nested {
		return nil, fmt.Errorf("unexpected end of file: missing \"}\"")
	}
	return out, nil
}

func (p *confParser) directive() (*directive, error) {
	d := &directive{Name: p.toks[p.pos].text, Line: p.toks[p.pos].line}
	p.pos++
	for p.pos < len(p.toks) {
		t := p.toks[p.pos]
		p.pos++
		switch {
		case t.comment:
			return nil, fmt.Errorf("line %d: comment inside directive %q", t.line, d.Name)
		case t.special(";"):
			return d, nil
		case t.special("{"):
			d.HasBlock = true
			endLine := t.line
			// A comment right after "{" belongs to the block's directive.
			if p.pos < len(p.toks) && p.toks[p.pos].comment && p.toks[p.pos].line == endLine {
				d.Comment = p.toks[p.pos].text
				p.pos++
			}
			block, err := p.block(true)
			if err != nil {
				return nil, err
			}
			d.Block = block
			return d, nil
		case t.special("}"):
			return nil, fmt.Errorf("line %d: directive %q is not terminated by \";\"", t.line, d.Name)
		default:
			d.Args = append(d.Args, t.text)
		}
	}
	return nil, fmt.Errorf("line %d: unexpected end of file in directive %q", d.Line, d.Name)
}

// tokenize splits src the way nginx's ngx_conf_read_token does.
func tokenize(src string) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			toks = append(toks, token{text: strings.TrimSpace(src[i+1 : i+end]), line: line, comment: true})
			i += end
		case c == '{' || c == '}' || c == ';':
			toks = append(toks, token{text: string(c), line: line})
			i++
		case c == '"' || c == '\'':
			text, n, err := unquote(src[i:])
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", line, err)
			}
			toks = append(toks, token{text: text, line: line, quoted: true})
			line += strings.Count(src[i:i+n], "\n")
			i += n
		default:
			start := i
			for i < len(src) && !strings.ContainsRune(" \t\r\n;{}", rune(src[i])) {
				if src[i] == '\\' && i+1 < len(src) {
					i++
				}
				i++
			}
			toks = append(toks, token{text: unescape(src[start:i]), line: line})
		}
	}
	return toks, nil
}

// unquote reads a quoted string at the start of s and returns its value and length.
func unquote(s string) (string, int, error) {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return unescape(s[1:i]), i + 1, nil
		}
	}
	return "", 0, fmt.Errorf("unterminated quoted string")
}

// unescape applies nginx's escapes: \" \' \\ lose the backslash, \t \r \n become
// control characters, and any other backslash is kept.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '"', '\'', '\\':
			b.WriteByte(s[i+1])
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i+1])
		}
		i++
	}
	return b.String()
}

// quoteArg renders an argument so that tokenize reads back exactly s.
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\r\n;{}#\"'\\") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`, "\r", `\r`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
