package expr

import (
	"errors"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
)

// FuzzParse checks that parsing and binding never panic and that every
// error position stays inside the input (0..len, len meaning "at the end").
// SPEC T2. `make test` runs the seed corpus; fuzz with
//
//	go test ./transform/expr -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "id = 1", "amount > 100 AND status IN ('paid','shipped') AND created_at >= '2024-01-01'",
		"NOT (a = 1 OR b <> 'x''y') AND c IS NOT NULL", "x NOT BETWEEN -1.5e3 AND .5", "n LIKE 'a\\%%' ESCAPE '\\'",
		"`odd ``name` = \"q\"\"\" ", "d >= DATE '2024-01-01' AND t < TIME '10:00' OR ts = TIMESTAMP '2024-01-01 00:00:00Z'",
		"((((", "))", "'unterminated", "`unterminated", "1e", "1e+", "12abc", "a = ¤", "größe = 3", "id IN ()",
		"id IN (1,,2)", "paid", "NOT paid AND TRUE OR NULL", "\xff\xfe", "id = 1 -- comment", "a<>b!=c<=d>=e",
		"name LIKE '_ü%' ESCAPE ''", "id = - 5", "id = +5", "id BETWEEN 1 AND", "x IS NOT", "x NOT",
	} {
		f.Add(s)
	}
	tb := fuzzTable()
	r := sluice.Row{int64(5), sluice.Decimal("12.50"), "paid", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "naïve", nil, true}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			checkErr(t, src, err)
			return
		}
		p, err := e.Compile(tb)
		if err != nil {
			checkErr(t, src, err)
			return
		}
		if _, err := p.Eval(r, nil); err != nil {
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("%q: Eval error of type %T: %v", src, err, err)
			}
		}
	})
}

func checkErr(t *testing.T, src string, err error) {
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: error of type %T: %v", src, err, err)
	}
	if e.Pos < 0 || e.Pos > len(src) {
		t.Fatalf("%q: error position %d outside the input (len %d): %v", src, e.Pos, len(src), err)
	}
	if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrUnknownColumn) && !errors.Is(err, ErrType) {
		t.Fatalf("%q: error without a kind: %v", src, err)
	}
}

func fuzzTable() *sluice.Table {
	tb, err := sluice.NewTable(sluice.TableID{Schema: "s", Name: "t"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "amount", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}},
		{Name: "status", Type: sluice.Type{Kind: sluice.KindEnum, Members: []string{"new", "paid"}}},
		{Name: "created_at", Type: sluice.Type{Kind: sluice.KindDateTime}},
		{Name: "name", Type: sluice.Type{Kind: sluice.KindString}},
		{Name: "n", Type: sluice.Type{Kind: sluice.KindUint, Bits: 64}, Nullable: true},
		{Name: "paid", Type: sluice.Type{Kind: sluice.KindBool}},
	}, []int{0})
	if err != nil {
		panic(err)
	}
	return tb
}
