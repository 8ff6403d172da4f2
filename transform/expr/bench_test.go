package expr

import (
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
)

// BenchmarkPredicate evaluates the three-clause predicate of issue 5
// (goal: ≤ 100 ns and 0 allocs per row). Rerun:
//
//	go test ./transform/expr -run '^$' -bench Predicate -benchmem
func BenchmarkPredicate(b *testing.B) {
	tb, err := sluice.NewTable(sluice.TableID{Schema: "shop", Name: "orders"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "amount", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}},
		{Name: "status", Type: sluice.Type{Kind: sluice.KindEnum, Members: []string{"new", "paid", "shipped"}}},
		{Name: "created_at", Type: sluice.Type{Kind: sluice.KindDateTime}},
	}, []int{0})
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(tb, "amount > 100 AND status IN ('paid','shipped') AND created_at >= '2024-01-01'")
	if err != nil {
		b.Fatal(err)
	}
	r := sluice.Row{int64(1), sluice.Decimal("1234.56"), "shipped", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if t, _ := p.Eval(r, nil); t != True {
			b.Fatal("row should pass")
		}
	}
}
