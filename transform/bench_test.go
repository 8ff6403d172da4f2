package transform

import (
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
)

// Benchmarks for issue 5. Rerun:
//
//	go test ./transform/... -run '^$' -bench . -benchmem
//
// Goals: the three-clause filter ≤ 100 ns and 0 allocs per row; renaming
// 0 allocs per row. Deselection must build a new row (rows are immutable):
// it is carved from a slab, so it costs 1/128 allocation per row.

func benchTable(b *testing.B) *sluice.Table {
	tb, err := sluice.NewTable(sluice.TableID{Schema: "shop", Name: "orders"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "amount", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}},
		{Name: "status", Type: sluice.Type{Kind: sluice.KindString, Length: 20}},
		{Name: "created_at", Type: sluice.Type{Kind: sluice.KindDateTime}},
		{Name: "note", Type: sluice.Type{Kind: sluice.KindString}, Nullable: true},
	}, []int{0})
	if err != nil {
		b.Fatal(err)
	}
	return tb
}

func benchChange(tb *sluice.Table) sluice.Change {
	return sluice.Change{Op: sluice.OpInsert, Table: tb, After: sluice.Row{
		int64(1), sluice.Decimal("1234.56"), "shipped", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), "hello",
	}}
}

func runMapper(b *testing.B, m Mapper, c sluice.Change, want int) {
	buf := make([]sluice.Change, 0, 4)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var err error
		if buf, err = m.Map(c, buf[:0]); err != nil || len(buf) != want {
			b.Fatal(err, len(buf))
		}
	}
}

// BenchmarkFilterThreeClauses: amount > 100 AND status IN ('paid','shipped')
// AND created_at >= '2024-01-01' on an insert, through Filter.Map.
func BenchmarkFilterThreeClauses(b *testing.B) {
	tb := benchTable(b)
	f, err := NewFilter(FilterConfig{Rules: []FilterRule{{Table: "shop.orders", Where: "amount > 100 AND status IN ('paid','shipped') AND created_at >= '2024-01-01'"}}})
	if err != nil {
		b.Fatal(err)
	}
	m, err := f.Bind(tb)
	if err != nil {
		b.Fatal(err)
	}
	runMapper(b, m, benchChange(tb), 1)
}

// BenchmarkRenameTableAndColumns: schema, table and column renames; the row
// passes through.
func BenchmarkRenameTableAndColumns(b *testing.B) {
	tb := benchTable(b)
	r, _ := NewRename(RenameConfig{
		Schemas: []SchemaRule{{From: "shop", To: "public"}},
		Tables:  []TableRule{{Match: "shop.orders", To: "purchases", Columns: map[string]string{"amount": "total"}}},
	})
	m, err := r.Bind(tb)
	if err != nil {
		b.Fatal(err)
	}
	runMapper(b, m, benchChange(tb), 1)
}

// BenchmarkRenameDeselect: dropping a column builds a new row per change.
func BenchmarkRenameDeselect(b *testing.B) {
	tb := benchTable(b)
	r, _ := NewRename(RenameConfig{Tables: []TableRule{{Match: "shop.orders", Drop: []string{"note"}}}})
	m, err := r.Bind(tb)
	if err != nil {
		b.Fatal(err)
	}
	runMapper(b, m, benchChange(tb), 1)
}

// BenchmarkChainRenameFilterOps: the three in a Chain on an update.
func BenchmarkChainRenameFilterOps(b *testing.B) {
	tb := benchTable(b)
	r, _ := NewRename(RenameConfig{Schemas: []SchemaRule{{From: "shop", To: "public"}}, Tables: []TableRule{{Match: "shop.orders", Columns: map[string]string{"amount": "total"}}}})
	f, _ := NewFilter(FilterConfig{Rules: []FilterRule{{Table: "public.orders", Where: "total > 100 AND status IN ('paid','shipped') AND created_at >= '2024-01-01'"}}})
	o, _ := NewOps(OpsConfig{Allow: []sluice.Op{sluice.OpInsert, sluice.OpUpdate, sluice.OpDelete}})
	m, err := Chain(r, f, o).Bind(tb)
	if err != nil {
		b.Fatal(err)
	}
	c := benchChange(tb)
	c.Op, c.Before = sluice.OpUpdate, c.After
	runMapper(b, m, c, 1)
}
