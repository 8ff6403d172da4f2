package expr

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// likeRegexp is an independent oracle: the LIKE pattern (escape '\') as an
// anchored regular expression.
func likeRegexp(pat string) (*regexp.Regexp, bool) {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(pat); {
		r, size := utf8.DecodeRuneInString(pat[i:])
		switch {
		case r == '\\':
			if i+1 >= len(pat) {
				return nil, false
			}
			r2, size2 := utf8.DecodeRuneInString(pat[i+1:])
			if r2 != '%' && r2 != '_' && r2 != '\\' {
				return nil, false
			}
			b.WriteString(regexp.QuoteMeta(string(r2)))
			i += 1 + size2
			continue
		case r == '%':
			b.WriteString(`.*`)
		case r == '_':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(pat[i : i+size]))
		}
		i += size
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	return re, err == nil
}

// FuzzLike compares the LIKE matcher with a regular-expression oracle on
// valid UTF-8 (SPEC T2).
func FuzzLike(f *testing.F) {
	for _, s := range [][2]string{{"a%b_c", "axxbyc"}, {"%", ""}, {"_%_", "ü"}, {`\%%`, "%x"}, {"%a%a%b", "aaaaab"}, {"日_", "日本"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		if !utf8.ValidString(pat) || !utf8.ValidString(s) || len(pat) > 64 || len(s) > 256 {
			return
		}
		re, ok := likeRegexp(pat)
		m, msg := compileLike(pat, '\\', false)
		if ok != (msg == "") {
			t.Fatalf("pattern %q: oracle ok=%v, compile message %q", pat, ok, msg)
		}
		if !ok {
			return
		}
		if got, want := m.match(s), re.MatchString(s); got != want {
			t.Fatalf("%q LIKE %q: got %v, want %v", s, pat, got, want)
		}
	})
}
