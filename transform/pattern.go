package transform

import (
	"fmt"
	"strings"

	"github.com/sluicecdc/sluice"
)

// namePattern matches one identifier: exact text, or a glob where * matches
// any run of characters and ? exactly one (quoted parts are always exact).
type namePattern struct {
	text string
	glob bool
}

func (p namePattern) match(s string) bool {
	if !p.glob {
		return p.text == s
	}
	return globMatch(p.text, s)
}

func (p namePattern) String() string { return p.text }

// globMatch matches s against a pattern of literal characters, * and ?.
func globMatch(pat, s string) bool {
	pr, sr := []rune(pat), []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(sr) {
		switch {
		case pi < len(pr) && (pr[pi] == '?' || pr[pi] == sr[si]) && pr[pi] != '*':
			pi++
			si++
		case pi < len(pr) && pr[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(pr) && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}

// TablePattern selects tables by schema and name. Each part is an exact
// name or a glob (* any run, ? one character). Parse one with
// ParseTablePattern.
type TablePattern struct {
	schema, name namePattern
	src          string
}

// ParseTablePattern parses "schema.table" where each part is bare (globs
// allowed: shop_*.orders, *.orders, shop.*) or quoted with "..." or `...`
// (exact, may hold dots: "my.db".orders). A pattern without a dot,
// "orders", matches that table name in any schema.
func ParseTablePattern(s string) (TablePattern, error) {
	parts, err := splitQualified(s, 2)
	if err != nil {
		return TablePattern{}, fmt.Errorf("table pattern %q: %w", s, err)
	}
	p := TablePattern{src: s}
	if len(parts) == 1 {
		p.schema, p.name = namePattern{text: "*", glob: true}, parts[0]
	} else {
		p.schema, p.name = parts[0], parts[1]
	}
	return p, nil
}

// MustTablePattern is ParseTablePattern that panics on error, for literals.
func MustTablePattern(s string) TablePattern {
	p, err := ParseTablePattern(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Match reports whether id is selected.
func (p TablePattern) Match(id sluice.TableID) bool {
	return p.schema.match(id.Schema) && p.name.match(id.Name)
}

// IsExact reports whether the pattern names exactly one table.
func (p TablePattern) IsExact() bool { return !p.schema.glob && !p.name.glob }

// String returns the pattern as written.
func (p TablePattern) String() string { return p.src }

// splitQualified splits a dotted name into at most max parts; quoted parts
// are exact and may contain dots; bare parts may be globs.
func splitQualified(s string, max int) ([]namePattern, error) {
	var parts []namePattern
	i := 0
	for {
		if len(parts) == max {
			return nil, fmt.Errorf("too many dot-separated parts (at most %d; quote names that contain dots)", max)
		}
		if i >= len(s) {
			return nil, fmt.Errorf("empty name part")
		}
		var part namePattern
		if q := s[i]; q == '"' || q == '`' {
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == q {
					if j+1 < len(s) && s[j+1] == q {
						b.WriteByte(q)
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed || b.Len() == 0 {
				return nil, fmt.Errorf("unterminated or empty quoted name at offset %d", i)
			}
			part = namePattern{text: b.String()}
			i = j
		} else {
			j := strings.IndexByte(s[i:], '.')
			if j < 0 {
				j = len(s) - i
			}
			text := s[i : i+j]
			if text == "" {
				return nil, fmt.Errorf("empty name part at offset %d", i)
			}
			part = namePattern{text: text, glob: strings.ContainsAny(text, "*?")}
			i += j
		}
		parts = append(parts, part)
		if i == len(s) {
			return parts, nil
		}
		if s[i] != '.' {
			return nil, fmt.Errorf("expected '.' at offset %d", i)
		}
		i++
	}
}

// parseTableID parses an exact "schema.table" or "table" target name (no
// globs); a missing schema is returned empty.
func parseTableID(s string) (sluice.TableID, error) {
	parts, err := splitQualified(s, 2)
	if err != nil {
		return sluice.TableID{}, fmt.Errorf("table name %q: %w", s, err)
	}
	for _, p := range parts {
		if p.glob {
			return sluice.TableID{}, fmt.Errorf("table name %q: a target name cannot be a pattern", s)
		}
	}
	if len(parts) == 1 {
		return sluice.TableID{Name: parts[0].text}, nil
	}
	return sluice.TableID{Schema: parts[0].text, Name: parts[1].text}, nil
}

// tableRules is a list of patterns matched in order; the first match wins.
type tableRules []TablePattern

func (r tableRules) find(id sluice.TableID) int {
	for i, p := range r {
		if p.Match(id) {
			return i
		}
	}
	return -1
}
