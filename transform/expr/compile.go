package expr

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/sluicecdc/sluice"
)

// Truth is a value of SQL's three-valued logic.
type Truth uint8

// The three truth values. A row passes a filter only when its predicate is
// True; Unknown (a comparison with NULL) rejects it, as in SQL.
const (
	False Truth = iota
	True
	Unknown
	tError // internal: a value could not be read (see Predicate.Eval)
)

// String returns "false", "true" or "unknown".
func (t Truth) String() string {
	switch t {
	case False:
		return "false"
	case True:
		return "true"
	case Unknown:
		return "unknown"
	}
	return "error"
}

// Expr is a parsed expression, not yet bound to a table.
type Expr struct {
	src  string
	root node
}

// Parse parses src. A syntax error is an *Error wrapping ErrSyntax.
func Parse(src string) (*Expr, error) {
	n, err := parse(src)
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, root: n}, nil
}

// String returns the source text.
func (e *Expr) String() string { return e.src }

// Verify parses src and checks it against t: every column must exist and
// every literal and operator must fit its column's type. The error is an
// *Error (with Pos) wrapping ErrSyntax, ErrUnknownColumn or ErrType.
func Verify(t *sluice.Table, src string) error {
	_, err := Compile(t, src)
	return err
}

// Compile parses src and binds it to t.
func Compile(t *sluice.Table, src string) (*Predicate, error) {
	e, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return e.Compile(t)
}

// Predicate is an expression bound to one table version: column names are
// resolved to indexes and literals converted to the columns' Go
// representations once, so evaluation does no string work and no
// allocation. A Predicate is immutable and safe for concurrent use.
type Predicate struct {
	root  pred
	table *sluice.Table
	cols  []int // columns read, for diagnostics
	src   string
}

// Compile binds e to t.
func (e *Expr) Compile(t *sluice.Table) (*Predicate, error) {
	c := &compiler{t: t}
	p, err := c.node(e.root)
	if err != nil {
		return nil, err
	}
	return &Predicate{root: p, table: t, cols: c.cols, src: e.src}, nil
}

// Table returns the table version the predicate is bound to.
func (p *Predicate) Table() *sluice.Table { return p.table }

// String returns the source text.
func (p *Predicate) String() string { return p.src }

// Eval evaluates the predicate on r, a row of the bound table. When r holds
// sluice.Unchanged for a column the predicate reads (an UPDATE's after-image
// with an unchanged TOAST value), the value is taken from fallback (the
// before-image) when it has one. Eval returns an error when a column's
// value cannot be read: unchanged without a fallback, or not of its Kind's
// Go representation. It does not allocate unless it fails.
func (p *Predicate) Eval(r, fallback sluice.Row) (Truth, error) {
	if len(r) != len(p.table.Columns) {
		return Unknown, p.errorf("row has %d values for %d columns", len(r), len(p.table.Columns))
	}
	if fallback != nil && len(fallback) != len(r) {
		fallback = nil
	}
	t := p.root.eval(r, fallback)
	if t == tError {
		return Unknown, p.diagnose(r, fallback)
	}
	return t, nil
}

func (p *Predicate) errorf(format string, args ...any) error {
	return &EvalError{Table: p.table.ID, Expr: p.src, Msg: sprintf(format, args...)}
}

// EvalError is returned by Eval when a value cannot be evaluated.
type EvalError struct {
	Table  sluice.TableID
	Column string
	Expr   string
	Msg    string
}

// Error names the table, the column and the cause.
func (e *EvalError) Error() string {
	s := "filter " + strconv.Quote(e.Expr) + " on table " + e.Table.String()
	if e.Column != "" {
		s += ", column " + strconv.Quote(e.Column)
	}
	return s + ": " + e.Msg
}

// diagnose finds why evaluation failed (slow path).
func (p *Predicate) diagnose(r, fb sluice.Row) error {
	for _, i := range p.cols {
		col := p.table.Columns[i]
		v := r[i]
		if sluice.IsUnchanged(v) {
			if fb == nil || sluice.IsUnchanged(fb[i]) {
				return &EvalError{Table: p.table.ID, Column: col.Name, Expr: p.src,
					Msg: "the source did not send the value (unchanged TOAST) and no before-image holds it; " +
						"set REPLICA IDENTITY FULL on the source table so updates carry every column"}
			}
			v = fb[i]
		}
		if v != nil && !representationOK(col.Type.Kind, v) {
			return &EvalError{Table: p.table.ID, Column: col.Name, Expr: p.src,
				Msg: sprintf("value of Go type %T does not match column kind %s (a source bug)", v, col.Type.Kind)}
		}
	}
	return &EvalError{Table: p.table.ID, Expr: p.src, Msg: "a value could not be evaluated"}
}

func representationOK(k sluice.Kind, v any) bool {
	switch k {
	case sluice.KindBool:
		_, ok := v.(bool)
		return ok
	case sluice.KindInt, sluice.KindYear:
		_, ok := v.(int64)
		return ok
	case sluice.KindUint, sluice.KindBit:
		_, ok := v.(uint64)
		return ok
	case sluice.KindFloat32:
		_, ok := v.(float32)
		return ok
	case sluice.KindFloat64:
		_, ok := v.(float64)
		return ok
	case sluice.KindDecimal:
		_, ok := v.(sluice.Decimal)
		return ok
	case sluice.KindString, sluice.KindEnum, sluice.KindSet, sluice.KindUUID:
		_, ok := v.(string)
		return ok
	case sluice.KindBytes:
		_, ok := v.([]byte)
		return ok
	case sluice.KindDate:
		_, ok := v.(sluice.Date)
		return ok
	case sluice.KindTime:
		_, ok := v.(time.Duration)
		return ok
	case sluice.KindDateTime, sluice.KindTimestamp:
		_, ok := v.(time.Time)
		return ok
	}
	return true
}

// ---- evaluation nodes ----

type pred interface {
	eval(r, fb sluice.Row) Truth
}

// value returns column i of r, resolving Unchanged through fb. st is True
// for a value, Unknown for NULL, tError when it cannot be read.
func value(r, fb sluice.Row, i int) (any, Truth) {
	v := r[i]
	if v == nil {
		return nil, Unknown
	}
	if sluice.IsUnchanged(v) {
		if fb == nil {
			return nil, tError
		}
		if v = fb[i]; v == nil {
			return nil, Unknown
		}
		if sluice.IsUnchanged(v) {
			return nil, tError
		}
	}
	return v, True
}

type constPred Truth

func (c constPred) eval(sluice.Row, sluice.Row) Truth { return Truth(c) }

type andPred struct{ l, r pred }

func (n *andPred) eval(r, fb sluice.Row) Truth {
	a := n.l.eval(r, fb)
	if a == False {
		return False
	}
	b := n.r.eval(r, fb)
	switch {
	case b == False:
		return False
	case a == tError || b == tError:
		return tError
	case a == Unknown || b == Unknown:
		return Unknown
	}
	return True
}

type orPred struct{ l, r pred }

func (n *orPred) eval(r, fb sluice.Row) Truth {
	a := n.l.eval(r, fb)
	if a == True {
		return True
	}
	b := n.r.eval(r, fb)
	switch {
	case b == True:
		return True
	case a == tError || b == tError:
		return tError
	case a == Unknown || b == Unknown:
		return Unknown
	}
	return False
}

type notPred struct{ x pred }

func (n *notPred) eval(r, fb sluice.Row) Truth {
	switch t := n.x.eval(r, fb); t {
	case True:
		return False
	case False:
		return True
	default:
		return t
	}
}

// opResult maps a comparison result (-1, 0, +1, offset by one) to a truth.
type opResult [3]Truth

var opResults = [...]opResult{
	opEQ: {False, True, False},
	opNE: {True, False, True},
	opLT: {True, False, False},
	opLE: {True, True, False},
	opGT: {False, False, True},
	opGE: {False, True, True},
}

// comparer compares a column value with a constant; ok is false when v is
// not of the expected Go type.
type comparer interface {
	cmp(v any) (c int, ok bool)
}

// cmpPred is column op constant.
type cmpPred struct {
	col int
	c   comparer
	res opResult
}

func (n *cmpPred) eval(r, fb sluice.Row) Truth {
	v := r[n.col]
	if v == nil {
		return Unknown
	}
	c, ok := n.c.cmp(v)
	if !ok {
		var st Truth
		if v, st = value(r, fb, n.col); st != True {
			return st
		}
		if c, ok = n.c.cmp(v); !ok {
			return tError
		}
	}
	return n.res[c+1]
}

// colColPred is column op column.
type colColPred struct {
	a, b int
	cmp  func(x, y any) (int, bool)
	res  opResult
}

func (n *colColPred) eval(r, fb sluice.Row) Truth {
	x, st := value(r, fb, n.a)
	if st != True {
		return st
	}
	y, st := value(r, fb, n.b)
	if st != True {
		return st
	}
	c, ok := n.cmp(x, y)
	if !ok {
		return tError
	}
	return n.res[c+1]
}

// inPred is column [NOT] IN (constants).
type inPred struct {
	col     int
	list    []comparer
	hasNull bool
	not     bool
}

func (n *inPred) eval(r, fb sluice.Row) Truth {
	v, st := value(r, fb, n.col)
	if st != True {
		return st
	}
	for _, c := range n.list {
		x, ok := c.cmp(v)
		if !ok {
			return tError
		}
		if x == 0 {
			if n.not {
				return False
			}
			return True
		}
	}
	if n.hasNull {
		return Unknown
	}
	if n.not {
		return True
	}
	return False
}

// inSetPred is a long IN list of integers or strings, sorted.
type inSetPred struct {
	col     int
	ints    []int64
	strs    []string
	isInt   bool
	hasNull bool
	not     bool
}

func (n *inSetPred) eval(r, fb sluice.Row) Truth {
	v, st := value(r, fb, n.col)
	if st != True {
		return st
	}
	var found bool
	if n.isInt {
		x, ok := v.(int64)
		if !ok {
			return tError
		}
		_, found = slices.BinarySearch(n.ints, x)
	} else {
		x, ok := v.(string)
		if !ok {
			return tError
		}
		_, found = slices.BinarySearch(n.strs, x)
	}
	switch {
	case found:
		return truthOf(!n.not)
	case n.hasNull:
		return Unknown
	}
	return truthOf(n.not)
}

// likePred is column [NOT] LIKE pattern.
type likePred struct {
	col int
	m   *likeMatcher
	not bool
}

func (n *likePred) eval(r, fb sluice.Row) Truth {
	v, st := value(r, fb, n.col)
	if st != True {
		return st
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = unsafe.String(unsafe.SliceData(x), len(x))
	default:
		return tError
	}
	if n.m.match(s) != n.not {
		return True
	}
	return False
}

// isNullPred is column IS [NOT] NULL. An unchanged value is not NULL.
type isNullPred struct {
	col int
	not bool
}

func (n *isNullPred) eval(r, _ sluice.Row) Truth {
	if (r[n.col] == nil) != n.not {
		return True
	}
	return False
}

// boolColPred is a bool column used as a condition.
type boolColPred struct{ col int }

func (n *boolColPred) eval(r, fb sluice.Row) Truth {
	v, st := value(r, fb, n.col)
	if st != True {
		return st
	}
	b, ok := v.(bool)
	if !ok {
		return tError
	}
	if b {
		return True
	}
	return False
}

// ---- comparers ----

type intCmp struct{ b intBound }

func (c intCmp) cmp(v any) (int, bool) {
	x, ok := v.(int64)
	return c.b.cmp(x), ok
}

type uintCmp struct{ b uintBound }

func (c uintCmp) cmp(v any) (int, bool) {
	x, ok := v.(uint64)
	return c.b.cmp(x), ok
}

type f64Cmp struct{ k float64 }

func (c f64Cmp) cmp(v any) (int, bool) {
	x, ok := v.(float64)
	return cmpFloat(x, c.k), ok
}

type f32Cmp struct{ k float32 }

func (c f32Cmp) cmp(v any) (int, bool) {
	x, ok := v.(float32)
	return cmpFloat(float64(x), float64(c.k)), ok
}

// cmpFloat orders NaN above every number and equal to itself (as
// PostgreSQL does).
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	}
	return -1
}

type decCmp struct{ d decimal }

func (c decCmp) cmp(v any) (int, bool) {
	x, ok := v.(sluice.Decimal)
	if !ok {
		return 0, false
	}
	d, ok := splitDecimal(string(x))
	if !ok {
		return 0, false
	}
	return cmpDecimal(d, c.d), true
}

type strCmp struct{ s string }

func (c strCmp) cmp(v any) (int, bool) {
	x, ok := v.(string)
	return strings.Compare(x, c.s), ok
}

type bytesCmp struct{ b []byte }

func (c bytesCmp) cmp(v any) (int, bool) {
	x, ok := v.([]byte)
	return bytes.Compare(x, c.b), ok
}

type timeCmp struct{ t time.Time }

func (c timeCmp) cmp(v any) (int, bool) {
	x, ok := v.(time.Time)
	return x.Compare(c.t), ok
}

type dateCmp struct{ b intBound }

func (c dateCmp) cmp(v any) (int, bool) {
	x, ok := v.(sluice.Date)
	return c.b.cmp(dateKey(x)), ok
}

type durCmp struct{ d time.Duration }

func (c durCmp) cmp(v any) (int, bool) {
	x, ok := v.(time.Duration)
	switch {
	case x < c.d:
		return -1, ok
	case x > c.d:
		return 1, ok
	}
	return 0, ok
}

type boolCmp struct{ b bool }

func (c boolCmp) cmp(v any) (int, bool) {
	x, ok := v.(bool)
	return b2i(x) - b2i(c.b), ok
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
