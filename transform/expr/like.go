package expr

import (
	"strings"
	"unicode/utf8"
)

// likeUnit is one element of a compiled LIKE pattern.
type likeUnit struct {
	kind uint8 // uLit, uOne, uAny
	lit  string
}

const (
	uLit uint8 = iota // a literal run of bytes
	uOne              // _ : exactly one character (one byte in byte mode)
	uAny              // % : any run, possibly empty
)

// likeMatcher matches values against a compiled pattern without allocating.
type likeMatcher struct {
	units []likeUnit
	bytes bool // '_' matches one byte instead of one UTF-8 character
}

// compileLike compiles pat; esc is the escape character, or -1 for none.
// An escape must be followed by %, _ or the escape itself.
func compileLike(pat string, esc rune, byteMode bool) (*likeMatcher, string) {
	m := &likeMatcher{bytes: byteMode}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			m.units = append(m.units, likeUnit{kind: uLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pat); {
		r, size := utf8.DecodeRuneInString(pat[i:])
		switch {
		case esc >= 0 && r == esc && size == utf8.RuneLen(esc):
			if i+size >= len(pat) {
				return nil, "LIKE pattern ends with the escape character"
			}
			r2, size2 := utf8.DecodeRuneInString(pat[i+size:])
			if r2 != '%' && r2 != '_' && r2 != esc {
				return nil, "the escape character must be followed by %, _ or itself in a LIKE pattern"
			}
			lit.WriteString(pat[i+size : i+size+size2])
			i += size + size2
			continue
		case r == '%':
			flush()
			if n := len(m.units); n == 0 || m.units[n-1].kind != uAny {
				m.units = append(m.units, likeUnit{kind: uAny})
			}
		case r == '_':
			flush()
			m.units = append(m.units, likeUnit{kind: uOne})
		default:
			lit.WriteString(pat[i : i+size])
		}
		i += size
	}
	flush()
	return m, ""
}

// match reports whether s matches the whole pattern.
func (m *likeMatcher) match(s string) bool {
	u := m.units
	pi, si := 0, 0
	star, mark := -1, 0
	for {
		if pi < len(u) {
			switch u[pi].kind {
			case uAny:
				star, mark = pi, si
				pi++
				continue
			case uOne:
				if si < len(s) {
					si += m.charLen(s, si)
					pi++
					continue
				}
			case uLit:
				if strings.HasPrefix(s[si:], u[pi].lit) {
					si += len(u[pi].lit)
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: let the last % absorb one more character.
		if star < 0 || mark >= len(s) {
			return false
		}
		mark += m.charLen(s, mark)
		pi, si = star+1, mark
	}
}

func (m *likeMatcher) charLen(s string, i int) int {
	if m.bytes || s[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}
