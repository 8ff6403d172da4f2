package expr_test

import (
	"errors"
	"fmt"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/transform/expr"
)

func ExampleCompile() {
	tb, _ := sluice.NewTable(sluice.TableID{Schema: "shop", Name: "orders"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "price", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}, Nullable: true},
	}, []int{0})
	p, err := expr.Compile(tb, "price >= 9.99 AND id NOT IN (1, 2)")
	if err != nil {
		panic(err)
	}
	for _, r := range []sluice.Row{{int64(3), sluice.Decimal("10.00")}, {int64(1), sluice.Decimal("10.00")}, {int64(4), nil}} {
		t, _ := p.Eval(r, nil)
		fmt.Println(r, t)
	}
	// Output:
	// [3 10.00] true
	// [1 10.00] false
	// [4 <nil>] unknown
}

func ExampleVerify() {
	tb, _ := sluice.NewTable(sluice.TableID{Schema: "shop", Name: "orders"}, []sluice.Column{
		{Name: "price", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}},
	}, nil)
	for _, src := range []string{"price > 'abc'", "prize > 5", "price >"} {
		err := expr.Verify(tb, src)
		var e *expr.Error
		if errors.As(err, &e) {
			fmt.Printf("%q: offset %d: %v\n", src, e.Pos, e.Kind)
		}
	}
	// Output:
	// "price > 'abc'": offset 8: type mismatch
	// "prize > 5": offset 0: unknown column
	// "price >": offset 7: syntax error
}
