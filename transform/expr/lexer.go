package expr

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // bare identifier (not a reserved word)
	tQIdent          // quoted identifier: `x` or "x"
	tString          // 'text'
	tNumber          // 12, 12.5, .5, 1e3
	tKeyword         // a reserved word; text is upper case
	tOp              // = != <> < > <= >=
	tLParen          // (
	tRParen          // )
	tComma           // ,
	tMinus           // -
	tPlus            // +
)

// token is one lexical unit. text is the unescaped content for identifiers
// and strings, the upper-cased word for keywords, the literal source for
// numbers and operators. pos and end are byte offsets into the source.
type token struct {
	kind     tokKind
	text     string
	pos, end int
}

// reserved words: they cannot be bare column names (quote them instead).
var reserved = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "IN": true, "BETWEEN": true, "LIKE": true,
	"ESCAPE": true, "IS": true, "NULL": true, "TRUE": true, "FALSE": true,
}

// lexer splits the source into tokens on demand.
type lexer struct {
	src string
	i   int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdentPart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// next returns the next token or a syntax error.
func (l *lexer) next() (token, error) {
	for l.i < len(l.src) && isSpace(l.src[l.i]) {
		l.i++
	}
	start := l.i
	if l.i >= len(l.src) {
		return token{kind: tEOF, pos: start, end: start}, nil
	}
	c := l.src[l.i]
	switch {
	case c == '(':
		l.i++
		return token{kind: tLParen, text: "(", pos: start, end: l.i}, nil
	case c == ')':
		l.i++
		return token{kind: tRParen, text: ")", pos: start, end: l.i}, nil
	case c == ',':
		l.i++
		return token{kind: tComma, text: ",", pos: start, end: l.i}, nil
	case c == '-':
		l.i++
		return token{kind: tMinus, text: "-", pos: start, end: l.i}, nil
	case c == '+':
		l.i++
		return token{kind: tPlus, text: "+", pos: start, end: l.i}, nil
	case c == '=':
		l.i++
		if l.i < len(l.src) && l.src[l.i] == '=' { // tolerate ==
			l.i++
		}
		return token{kind: tOp, text: "=", pos: start, end: l.i}, nil
	case c == '!':
		if l.i+1 < len(l.src) && l.src[l.i+1] == '=' {
			l.i += 2
			return token{kind: tOp, text: "!=", pos: start, end: l.i}, nil
		}
		return token{}, syntaxErr(start, "unexpected '!' (did you mean != or NOT?)")
	case c == '<':
		l.i++
		if l.i < len(l.src) && (l.src[l.i] == '=' || l.src[l.i] == '>') {
			l.i++
		}
		op := l.src[start:l.i]
		if op == "<>" {
			op = "!="
		}
		return token{kind: tOp, text: op, pos: start, end: l.i}, nil
	case c == '>':
		l.i++
		if l.i < len(l.src) && l.src[l.i] == '=' {
			l.i++
		}
		return token{kind: tOp, text: l.src[start:l.i], pos: start, end: l.i}, nil
	case c == '\'':
		s, err := l.quoted('\'')
		if err != nil {
			return token{}, err
		}
		return token{kind: tString, text: s, pos: start, end: l.i}, nil
	case c == '`' || c == '"':
		s, err := l.quoted(c)
		if err != nil {
			return token{}, err
		}
		if s == "" {
			return token{}, syntaxErr(start, "empty quoted column name")
		}
		return token{kind: tQIdent, text: s, pos: start, end: l.i}, nil
	case isDigit(c) || (c == '.' && l.i+1 < len(l.src) && isDigit(l.src[l.i+1])):
		return l.number()
	}
	r, size := utf8.DecodeRuneInString(l.src[l.i:])
	if r == utf8.RuneError && size <= 1 {
		return token{}, syntaxErr(start, "invalid UTF-8 byte")
	}
	if !isIdentStart(r) {
		return token{}, syntaxErr(start, "unexpected character "+quoteRune(r))
	}
	l.i += size
	for l.i < len(l.src) {
		r, size = utf8.DecodeRuneInString(l.src[l.i:])
		if (r == utf8.RuneError && size <= 1) || !isIdentPart(r) {
			break
		}
		l.i += size
	}
	word := l.src[start:l.i]
	if up := strings.ToUpper(word); reserved[up] {
		return token{kind: tKeyword, text: up, pos: start, end: l.i}, nil
	}
	return token{kind: tIdent, text: word, pos: start, end: l.i}, nil
}

// quoted reads a literal or identifier delimited by q; a doubled q stands
// for one q. Backslashes are ordinary characters (standard SQL).
func (l *lexer) quoted(q byte) (string, error) {
	start := l.i
	l.i++
	var b strings.Builder
	seg := l.i
	for l.i < len(l.src) {
		if l.src[l.i] == q {
			if l.i+1 < len(l.src) && l.src[l.i+1] == q {
				b.WriteString(l.src[seg : l.i+1])
				l.i += 2
				seg = l.i
				continue
			}
			b.WriteString(l.src[seg:l.i])
			l.i++
			return b.String(), nil
		}
		l.i++
	}
	what := "string literal"
	if q != '\'' {
		what = "quoted column name"
	}
	return "", syntaxErr(start, "unterminated "+what)
}

// number reads digits [. digits] [e [+-] digits].
func (l *lexer) number() (token, error) {
	start := l.i
	for l.i < len(l.src) && isDigit(l.src[l.i]) {
		l.i++
	}
	if l.i < len(l.src) && l.src[l.i] == '.' {
		l.i++
		for l.i < len(l.src) && isDigit(l.src[l.i]) {
			l.i++
		}
	}
	if l.i < len(l.src) && (l.src[l.i] == 'e' || l.src[l.i] == 'E') {
		j := l.i + 1
		if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
			j++
		}
		if j >= len(l.src) || !isDigit(l.src[j]) {
			return token{}, syntaxErr(start, "malformed number: exponent without digits")
		}
		for j < len(l.src) && isDigit(l.src[j]) {
			j++
		}
		l.i = j
	}
	if l.i < len(l.src) {
		r, _ := utf8.DecodeRuneInString(l.src[l.i:])
		if isIdentPart(r) || r == '.' {
			return token{}, syntaxErr(start, "malformed number")
		}
	}
	return token{kind: tNumber, text: l.src[start:l.i], pos: start, end: l.i}, nil
}

func quoteRune(r rune) string {
	if r < 0x20 || r == 0x7f {
		return "U+" + strings.ToUpper(string("0123456789abcdef"[r>>4])+string("0123456789abcdef"[r&15]))
	}
	return "'" + string(r) + "'"
}
