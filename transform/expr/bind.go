package expr

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicecdc/sluice"
)

var sprintf = fmt.Sprintf

// compiler binds a parsed expression to a table.
type compiler struct {
	t    *sluice.Table
	cols []int
}

func (c *compiler) node(n node) (pred, error) {
	switch n := n.(type) {
	case *logicNode:
		l, err := c.node(n.l)
		if err != nil {
			return nil, err
		}
		r, err := c.node(n.r)
		if err != nil {
			return nil, err
		}
		if n.or {
			return &orPred{l, r}, nil
		}
		return &andPred{l, r}, nil
	case *notNode:
		x, err := c.node(n.x)
		if err != nil {
			return nil, err
		}
		return &notPred{x}, nil
	case *cmpNode:
		return c.compare(n.l, n.op, n.r, n.pos)
	case *betweenNode:
		lo, err := c.compare(n.x, opGE, n.lo, n.pos)
		if err != nil {
			return nil, err
		}
		hi, err := c.compare(n.x, opLE, n.hi, n.pos)
		if err != nil {
			return nil, err
		}
		var p pred = &andPred{lo, hi}
		if n.not {
			p = &notPred{p}
		}
		return p, nil
	case *inNode:
		return c.in(n)
	case *likeNode:
		return c.like(n)
	case *isNullNode:
		if n.x.kind == oNull {
			return constPred(truthOf(!n.not)), nil
		}
		if n.x.isLiteral() {
			return constPred(truthOf(n.not)), nil
		}
		i, err := c.column(n.x)
		if err != nil {
			return nil, err
		}
		return &isNullPred{col: i, not: n.not}, nil
	case *truthNode:
		switch n.x.kind {
		case oNull:
			return constPred(Unknown), nil
		case oBool:
			return constPred(truthOf(n.x.text == "TRUE")), nil
		}
		i, err := c.column(n.x)
		if err != nil {
			return nil, err
		}
		if k := c.t.Columns[i].Type.Kind; k != sluice.KindBool {
			return nil, typeErr(n.x.pos, n.x.text, sprintf("column %s is %s, not bool: it cannot be used alone as a condition (compare it, e.g. %s = 1)", quoteName(n.x.text), k, quoteName(n.x.text)))
		}
		return &boolColPred{col: i}, nil
	}
	return nil, syntaxErr(n.position(), "unsupported expression")
}

func truthOf(b bool) Truth {
	if b {
		return True
	}
	return False
}

// column resolves a column reference: an exact match, else (for bare
// names, which SQL treats case-insensitively) a unique case-insensitive one.
func (c *compiler) column(o operand) (int, error) {
	i := c.t.ColumnIndex(o.text)
	if i < 0 && !o.quoted {
		for j, col := range c.t.Columns {
			if strings.EqualFold(col.Name, o.text) {
				if i >= 0 {
					return -1, &Error{Kind: ErrUnknownColumn, Pos: o.pos, Column: o.text,
						Msg: sprintf("column name %s is ambiguous in table %s: it matches %s and %s case-insensitively; quote the exact name", quoteName(o.text), c.t.ID, quoteName(c.t.Columns[i].Name), quoteName(col.Name))}
				}
				i = j
			}
		}
	}
	if i < 0 {
		names := make([]string, 0, len(c.t.Columns))
		for _, col := range c.t.Columns {
			names = append(names, col.Name)
		}
		return -1, &Error{Kind: ErrUnknownColumn, Pos: o.pos, Column: o.text,
			Msg: sprintf("table %s has no column %s (columns: %s)", c.t.ID, quoteName(o.text), strings.Join(names, ", "))}
	}
	if !slices.Contains(c.cols, i) {
		c.cols = append(c.cols, i)
	}
	return i, nil
}

// compare compiles l op r.
func (c *compiler) compare(l operand, op cmpOp, r operand, pos int) (pred, error) {
	if l.isLiteral() && !r.isLiteral() {
		l, r, op = r, l, op.flip()
	}
	if l.kind == oNull || r.kind == oNull {
		if !l.isLiteral() {
			if _, err := c.column(l); err != nil {
				return nil, err
			}
		}
		return constPred(Unknown), nil // comparing with NULL is never true: use IS NULL
	}
	if l.isLiteral() {
		return foldCompare(l, op, r, pos)
	}
	i, err := c.column(l)
	if err != nil {
		return nil, err
	}
	if !r.isLiteral() {
		j, err := c.column(r)
		if err != nil {
			return nil, err
		}
		f, err := c.colCol(i, j, r.pos)
		if err != nil {
			return nil, err
		}
		return &colColPred{a: i, b: j, cmp: f, res: opResults[op]}, nil
	}
	cmp, err := c.literal(i, r, op == opEQ || op == opNE)
	if err != nil {
		return nil, err
	}
	if cmp == nil { // an enum comparison that can never be equal
		return constPred(Unknown), nil
	}
	return &cmpPred{col: i, c: cmp, res: opResults[op]}, nil
}

// foldCompare evaluates a comparison of two literals.
func foldCompare(l operand, op cmpOp, r operand, pos int) (pred, error) {
	var x int
	switch {
	case l.kind == oNumber && r.kind == oNumber:
		a, _ := parseNumber(l.text)
		b, _ := parseNumber(r.text)
		x = cmpDecimal(a, b)
	case l.kind == oString && r.kind == oString:
		x = strings.Compare(l.text, r.text)
	case l.kind == oBool && r.kind == oBool:
		x = b2i(l.text == "TRUE") - b2i(r.text == "TRUE")
	default:
		return nil, typeErr(pos, "", "cannot compare these two literals; compare a column with a literal")
	}
	return constPred(opResults[op][x+1]), nil
}

// in compiles x [NOT] IN (list).
func (c *compiler) in(n *inNode) (pred, error) {
	if n.x.isLiteral() {
		return nil, typeErr(n.x.pos, "", "IN needs a column on its left")
	}
	i, err := c.column(n.x)
	if err != nil {
		return nil, err
	}
	p := &inPred{col: i, not: n.not}
	for _, o := range n.list {
		switch {
		case o.kind == oNull:
			p.hasNull = true
			continue
		case !o.isLiteral():
			return nil, typeErr(o.pos, o.text, "IN lists hold literals only, not columns")
		}
		cmp, err := c.literal(i, o, true)
		if err != nil {
			return nil, err
		}
		if cmp != nil {
			p.list = append(p.list, cmp)
		}
	}
	return sortedIn(p), nil
}

// sortedIn turns a long IN list of exact integers or strings into a sorted
// set searched by bisection.
func sortedIn(p *inPred) pred {
	if len(p.list) < 8 {
		return p
	}
	var ints []int64
	var strs []string
	for _, c := range p.list {
		switch c := c.(type) {
		case intCmp:
			if c.b.frac || c.b.below || c.b.above {
				continue // can never be equal to an integer
			}
			ints = append(ints, c.b.k)
		case strCmp:
			strs = append(strs, c.s)
		default:
			return p
		}
	}
	if len(ints) > 0 && len(strs) > 0 {
		return p
	}
	slices.Sort(ints)
	slices.Sort(strs)
	return &inSetPred{col: p.col, ints: slices.Compact(ints), strs: slices.Compact(strs), isInt: len(strs) == 0, hasNull: p.hasNull, not: p.not}
}

// like compiles x [NOT] LIKE pat [ESCAPE e].
func (c *compiler) like(n *likeNode) (pred, error) {
	if n.x.isLiteral() {
		return nil, typeErr(n.x.pos, "", "LIKE needs a column on its left")
	}
	i, err := c.column(n.x)
	if err != nil {
		return nil, err
	}
	col := c.t.Columns[i]
	byteMode := false
	switch col.Type.Kind {
	case sluice.KindString, sluice.KindEnum, sluice.KindSet, sluice.KindUUID:
	case sluice.KindBytes:
		byteMode = true
	default:
		return nil, typeErr(n.pos, col.Name, sprintf("LIKE applies to text columns; column %s is %s", quoteName(col.Name), col.Type.Kind))
	}
	esc := rune('\\')
	if n.esc != nil {
		switch n.esc.kind {
		case oString:
			switch rs := []rune(n.esc.text); len(rs) {
			case 0:
				esc = -1 // ESCAPE '' disables escaping
			case 1:
				esc = rs[0]
			default:
				return nil, typeErr(n.esc.pos, "", "ESCAPE takes a single character")
			}
		case oNull:
			return constPred(Unknown), nil
		default:
			return nil, typeErr(n.esc.pos, "", "ESCAPE takes a string literal of one character")
		}
	}
	switch n.pat.kind {
	case oNull:
		return constPred(Unknown), nil
	case oString:
	default:
		return nil, typeErr(n.pat.pos, "", "the LIKE pattern must be a string literal")
	}
	m, msg := compileLike(n.pat.text, esc, byteMode)
	if msg != "" {
		return nil, typeErr(n.pat.pos, col.Name, msg)
	}
	return &likePred{col: i, m: m, not: n.not}, nil
}

// literal converts lit to a comparer for column i. equality says the
// comparison is = / != / IN (for enum membership checks). A nil comparer
// with a nil error means the literal can never be equal.
func (c *compiler) literal(i int, lit operand, equality bool) (comparer, error) {
	col := c.t.Columns[i]
	k := col.Type.Kind
	mismatch := func(hint string) error {
		return typeErr(lit.pos, col.Name, sprintf("%s cannot be compared with column %s of type %s%s", describeLit(lit), quoteName(col.Name), col.Type, hint))
	}
	number := func() (decimal, bool) {
		switch lit.kind {
		case oNumber:
			return parseNumber(lit.text)
		case oString:
			return parseNumber(strings.TrimSpace(lit.text))
		case oBool:
			if lit.text == "TRUE" {
				return decimal{int: "1"}, true
			}
			return decimal{}, true
		}
		return decimal{}, false
	}
	switch k {
	case sluice.KindInt, sluice.KindYear:
		d, ok := number()
		if !ok {
			return nil, mismatch("")
		}
		return intCmp{toIntBound(d)}, nil
	case sluice.KindUint, sluice.KindBit:
		d, ok := number()
		if !ok {
			return nil, mismatch("")
		}
		return uintCmp{toUintBound(d)}, nil
	case sluice.KindFloat32, sluice.KindFloat64:
		d, ok := number()
		if !ok {
			return nil, mismatch("")
		}
		f, err := strconv.ParseFloat(d.String(), 64)
		if err != nil {
			return nil, mismatch(" (out of range)")
		}
		if k == sluice.KindFloat32 {
			return f32Cmp{float32(f)}, nil
		}
		return f64Cmp{f}, nil
	case sluice.KindDecimal:
		d, ok := number()
		if !ok {
			return nil, mismatch("")
		}
		return decCmp{d}, nil
	case sluice.KindBool:
		switch lit.kind {
		case oBool:
			return boolCmp{lit.text == "TRUE"}, nil
		case oNumber:
			switch d, _ := parseNumber(lit.text); d.String() {
			case "0":
				return boolCmp{false}, nil
			case "1":
				return boolCmp{true}, nil
			}
		}
		return nil, mismatch(" (use TRUE, FALSE, 1 or 0)")
	case sluice.KindString, sluice.KindSet:
		if lit.kind != oString {
			return nil, mismatch(" (quote the value: '...')")
		}
		return strCmp{lit.text}, nil
	case sluice.KindEnum:
		if lit.kind != oString {
			return nil, mismatch(" (quote the member: '...')")
		}
		if equality && !slices.Contains(col.Type.Members, lit.text) {
			return nil, typeErr(lit.pos, col.Name, sprintf("%s is not a member of enum column %s %s (comparison is byte-wise and case-sensitive)", describeLit(lit), quoteName(col.Name), col.Type))
		}
		return strCmp{lit.text}, nil
	case sluice.KindUUID:
		if lit.kind != oString {
			return nil, mismatch(" (quote the UUID)")
		}
		u, ok := canonicalUUID(lit.text)
		if !ok {
			return nil, mismatch(" (want 8-4-4-4-12 hex digits)")
		}
		return strCmp{u}, nil
	case sluice.KindBytes:
		if lit.kind != oString {
			return nil, mismatch(" (quote the value)")
		}
		return bytesCmp{[]byte(lit.text)}, nil
	case sluice.KindDate:
		if lit.kind != oString && lit.kind != oDate && lit.kind != oTimestamp {
			return nil, mismatch(" (quote the date: 'YYYY-MM-DD')")
		}
		if lit.text == "0000-00-00" {
			return dateCmp{intBound{k: 0}}, nil
		}
		t, hasTime, hasZone, ok := parseDateTimeLiteral(lit.text)
		if !ok || hasZone {
			return nil, mismatch(" (want 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' without a zone)")
		}
		b := intBound{k: dateKey(sluice.DateOf(t))}
		if hasTime && !t.Equal(sluice.DateOf(t).Time()) {
			b.frac = true // the literal lies after midnight of that day
		}
		return dateCmp{b}, nil
	case sluice.KindDateTime, sluice.KindTimestamp:
		if lit.kind != oString && lit.kind != oDate && lit.kind != oTimestamp {
			return nil, mismatch(" (quote the value: 'YYYY-MM-DD HH:MM:SS')")
		}
		t, _, hasZone, ok := parseDateTimeLiteral(lit.text)
		if !ok {
			return nil, mismatch(" (want 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.ffffff]' or RFC 3339)")
		}
		if hasZone && k == sluice.KindDateTime {
			return nil, mismatch(" (a datetime has no zone: drop the offset)")
		}
		return timeCmp{t}, nil
	case sluice.KindTime:
		if lit.kind != oString && lit.kind != oTime {
			return nil, mismatch(" (quote the value: 'HH:MM:SS')")
		}
		d, ok := parseDuration(lit.text)
		if !ok {
			return nil, mismatch(" (want '[-][D ]HH:MM:SS[.ffffff]')")
		}
		return durCmp{d}, nil
	}
	return nil, typeErr(lit.pos, col.Name, sprintf("column %s of type %s cannot be compared in a filter (only IS [NOT] NULL applies)", quoteName(col.Name), col.Type))
}

func describeLit(o operand) string {
	switch o.kind {
	case oNumber:
		return "number " + o.text
	case oString:
		return "string " + strconv.Quote(o.text)
	case oBool:
		return o.text
	case oDate:
		return "DATE " + strconv.Quote(o.text)
	case oTime:
		return "TIME " + strconv.Quote(o.text)
	case oTimestamp:
		return "TIMESTAMP " + strconv.Quote(o.text)
	}
	return "NULL"
}

// kind classes whose columns compare with each other.
func cmpClass(k sluice.Kind) int {
	switch k {
	case sluice.KindInt, sluice.KindYear:
		return 1
	case sluice.KindUint, sluice.KindBit:
		return 2
	case sluice.KindFloat32, sluice.KindFloat64:
		return 3
	case sluice.KindDecimal:
		return 4
	case sluice.KindString, sluice.KindEnum, sluice.KindSet, sluice.KindUUID:
		return 5
	case sluice.KindBytes:
		return 6
	case sluice.KindDate:
		return 7
	case sluice.KindDateTime, sluice.KindTimestamp:
		return 8
	case sluice.KindTime:
		return 9
	case sluice.KindBool:
		return 10
	}
	return 0
}

// colCol returns a comparison function for two columns.
func (c *compiler) colCol(i, j, pos int) (func(x, y any) (int, bool), error) {
	a, b := c.t.Columns[i], c.t.Columns[j]
	ca, cb := cmpClass(a.Type.Kind), cmpClass(b.Type.Kind)
	if ca == 0 || ca != cb || a.Type.Kind == sluice.KindFloat32 != (b.Type.Kind == sluice.KindFloat32) {
		return nil, typeErr(pos, b.Name, sprintf("column %s (%s) cannot be compared with column %s (%s)", quoteName(a.Name), a.Type, quoteName(b.Name), b.Type))
	}
	switch ca {
	case 1:
		return func(x, y any) (int, bool) {
			p, ok1 := x.(int64)
			q, ok2 := y.(int64)
			return intBound{k: q}.cmp(p), ok1 && ok2
		}, nil
	case 2:
		return func(x, y any) (int, bool) {
			p, ok1 := x.(uint64)
			q, ok2 := y.(uint64)
			return uintBound{k: q}.cmp(p), ok1 && ok2
		}, nil
	case 3:
		if a.Type.Kind == sluice.KindFloat32 {
			return func(x, y any) (int, bool) {
				p, ok1 := x.(float32)
				q, ok2 := y.(float32)
				return cmpFloat(float64(p), float64(q)), ok1 && ok2
			}, nil
		}
		return func(x, y any) (int, bool) {
			p, ok1 := x.(float64)
			q, ok2 := y.(float64)
			return cmpFloat(p, q), ok1 && ok2
		}, nil
	case 4:
		return func(x, y any) (int, bool) {
			p, ok1 := x.(sluice.Decimal)
			q, ok2 := y.(sluice.Decimal)
			dp, ok3 := splitDecimal(string(p))
			dq, ok4 := splitDecimal(string(q))
			return cmpDecimal(dp, dq), ok1 && ok2 && ok3 && ok4
		}, nil
	case 5:
		return func(x, y any) (int, bool) {
			p, ok1 := x.(string)
			q, ok2 := y.(string)
			return strings.Compare(p, q), ok1 && ok2
		}, nil
	case 6:
		return func(x, y any) (int, bool) {
			p, ok1 := x.([]byte)
			q, ok2 := y.([]byte)
			return strings.Compare(string(p), string(q)), ok1 && ok2
		}, nil
	case 7:
		return func(x, y any) (int, bool) {
			p, ok1 := x.(sluice.Date)
			q, ok2 := y.(sluice.Date)
			return intBound{k: dateKey(q)}.cmp(dateKey(p)), ok1 && ok2
		}, nil
	case 8:
		return func(x, y any) (int, bool) {
			p, ok1 := x.(time.Time)
			q, ok2 := y.(time.Time)
			return p.Compare(q), ok1 && ok2
		}, nil
	case 9:
		return func(x, y any) (int, bool) {
			p, ok1 := x.(time.Duration)
			q, ok2 := y.(time.Duration)
			c, _ := durCmp{q}.cmp(p)
			return c, ok1 && ok2
		}, nil
	default:
		return func(x, y any) (int, bool) {
			p, ok1 := x.(bool)
			q, ok2 := y.(bool)
			return b2i(p) - b2i(q), ok1 && ok2
		}, nil
	}
}
