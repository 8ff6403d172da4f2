package postgres_test

import (
	"context"
	"log"
	"os"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/postgres"
)

// A sink is usually handed to pipeline.New; used directly, it syncs the
// schema once and then takes batches.
func ExampleNew() {
	ctx := context.Background()
	s, err := postgres.New(ctx, postgres.Config{
		ConnString:    os.Getenv("PG_URL"),
		ExistingTable: postgres.ExistingFail,
		Conflict:      postgres.ConflictOverwrite,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	orders, err := sluice.NewTable(sluice.TableID{Schema: "shop", Name: "orders"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindUint, Bits: 64}},
		{Name: "total", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 12, Scale: 2}},
	}, []int{0})
	if err != nil {
		log.Fatal(err)
	}
	report := sluice.Report{Checks: s.Precheck(ctx, []*sluice.Table{orders})}
	if !report.OK() {
		log.Fatal(report.String())
	}
	if err := s.SyncSchema(ctx, []*sluice.Table{orders}); err != nil {
		log.Fatal(err)
	}
	err = s.Write(ctx, &sink.Batch{
		Changes: []sluice.Change{{Op: sluice.OpInsert, Table: orders,
			After: sluice.Row{uint64(1), sluice.Decimal("19.90")}}},
		Position:   sluice.Position("binlog.000001:1234"),
		Checkpoint: "shop-pipeline",
	})
	if err != nil {
		log.Fatal(err)
	}
	pos, _ := s.LoadCheckpoint(ctx, "shop-pipeline") // "binlog.000001:1234"
	_ = pos
}

// TypeFor tells which PostgreSQL type a neutral type becomes.
func ExampleTypeFor() {
	typ, _ := postgres.TypeFor(sluice.Type{Kind: sluice.KindUint, Bits: 64})
	_ = typ // "numeric(20,0)"
}
