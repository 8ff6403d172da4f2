package transform_test

import (
	"fmt"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/transform"
)

// Merge two shards into public.orders, keep paid orders only, and do not
// propagate deletes.
func ExampleChain() {
	rename, err := transform.NewRename(transform.RenameConfig{
		Tables: []transform.TableRule{{Match: "shop_*.orders", Columns: map[string]string{"amt": "amount"}}},
		Merges: []transform.MergeRule{{From: []string{"shop_*.orders"}, To: "public.orders"}},
	})
	if err != nil {
		panic(err)
	}
	filter, err := transform.NewFilter(transform.FilterConfig{Rules: []transform.FilterRule{
		{Table: "public.orders", Where: "status = 'paid' AND amount > 0"},
	}})
	if err != nil {
		panic(err)
	}
	ops, err := transform.NewOps(transform.OpsConfig{Allow: []sluice.Op{sluice.OpInsert, sluice.OpUpdate, sluice.OpSchema}})
	if err != nil {
		panic(err)
	}
	chain := transform.Chain(rename, filter, ops) // or pipeline.Config{Transforms: ...}

	cols := []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "amt", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}},
		{Name: "status", Type: sluice.Type{Kind: sluice.KindString}},
	}
	shard1, _ := sluice.NewTable(sluice.TableID{Schema: "shop_01", Name: "orders"}, cols, []int{0})
	shard2, _ := sluice.NewTable(sluice.TableID{Schema: "shop_02", Name: "orders"}, cols, []int{0})
	m1, err := chain.Bind(shard1)
	if err != nil {
		panic(err)
	}
	m2, _ := chain.Bind(shard2)
	fmt.Println(m1.Table(), m1.Table() == m2.Table())

	// An update that makes an order paid inserts it into the target.
	out, _ := m2.Map(sluice.Change{Op: sluice.OpUpdate, Table: shard2,
		Before: sluice.Row{int64(7), sluice.Decimal("5.00"), "new"},
		After:  sluice.Row{int64(7), sluice.Decimal("5.00"), "paid"}}, nil)
	fmt.Println(out[0].Op, out[0].Table.ID, out[0].After)
	// Output:
	// public.orders(id int64, amount decimal(10,2), status string) true
	// insert public.orders [7 5.00 paid]
}
