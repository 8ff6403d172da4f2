package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/postgres"
)

// sbtest is sysbench's table: id int, k int, c char(120), pad char(60).
func sbtest(b *testing.B) *sluice.Table {
	tb, err := sluice.NewTable(sluice.TableID{Schema: "sbtest", Name: "sbtest1"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}},
		{Name: "k", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}},
		{Name: "c", Type: sluice.Type{Kind: sluice.KindString, Length: 120, Fixed: true}},
		{Name: "pad", Type: sluice.Type{Kind: sluice.KindString, Length: 60, Fixed: true}},
	}, []int{0})
	if err != nil {
		b.Fatal(err)
	}
	return tb
}

// sbString is sysbench's "###########-###########-..." filler.
func sbString(rng *rand.Rand, groups int) string {
	var s strings.Builder
	for g := range groups {
		if g > 0 {
			s.WriteByte('-')
		}
		for range 11 {
			s.WriteByte(byte('0' + rng.IntN(10)))
		}
	}
	return s.String()
}

func sbRow(rng *rand.Rand, id int64) sluice.Row {
	return sluice.Row{id, int64(rng.IntN(1_000_000)), sbString(rng, 10), sbString(rng, 5)}
}

func benchSink(b *testing.B, cfg postgres.Config, tb *sluice.Table) *postgres.Sink {
	pg := testenv.Postgres(b)
	cfg.ConnString = pg.ConnString(pg.CreateDatabase(b))
	cfg.Logger = quiet
	s, err := postgres.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if err := s.SyncSchema(context.Background(), []*sluice.Table{tb}); err != nil {
		b.Fatal(err)
	}
	return s
}

const benchBatch = 5000

// BenchmarkCopyLoad measures the snapshot load path: batches of 5,000
// sysbench rows (OpRead) with a checkpoint, COPY straight into the table.
// Reported as rows/s.
func BenchmarkCopyLoad(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { benchCopyLoad(b, w) })
	}
}

func benchCopyLoad(b *testing.B, workers int) {
	tb := sbtest(b)
	s := benchSink(b, postgres.Config{LoadWorkers: workers}, tb)
	rng := rand.New(rand.NewPCG(1, 2))
	changes := make([]sluice.Change, benchBatch)
	ctx := context.Background()
	next := int64(1)
	b.ResetTimer()
	var busy time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := range changes {
			changes[j] = sluice.Change{Op: sluice.OpRead, Table: tb, After: sbRow(rng, next)}
			next++
		}
		b.StartTimer()
		start := time.Now()
		if err := s.Write(ctx, &sink.Batch{Changes: changes, Position: sluice.Position(fmt.Sprint(next)), Checkpoint: "bench"}); err != nil {
			b.Fatal(err)
		}
		busy += time.Since(start)
	}
	b.ReportMetric(float64(b.N*benchBatch)/busy.Seconds(), "rows/s")
}

// BenchmarkCopyLoadReplay measures a replayed snapshot chunk: every key
// exists, so the direct COPY fails and the rows are upserted through the
// stage table. Reported as rows/s.
func BenchmarkCopyLoadReplay(b *testing.B) {
	tb := sbtest(b)
	s := benchSink(b, postgres.Config{}, tb)
	rng := rand.New(rand.NewPCG(1, 2))
	changes := make([]sluice.Change, benchBatch)
	for j := range changes {
		changes[j] = sluice.Change{Op: sluice.OpRead, Table: tb, After: sbRow(rng, int64(j+1))}
	}
	ctx := context.Background()
	if err := s.Write(ctx, &sink.Batch{Changes: changes}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := s.Write(ctx, &sink.Batch{Changes: changes, Position: sluice.Position("p"), Checkpoint: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkApply measures change apply: batches of 5,000 changes in the
// sysbench oltp_write_only mix (update k, update c, delete, re-insert) on a
// 200,000-row table. Reported as changes/s.
func BenchmarkApply(b *testing.B) {
	const tableRows = 200_000
	tb := sbtest(b)
	s := benchSink(b, postgres.Config{}, tb)
	rng := rand.New(rand.NewPCG(3, 4))
	ctx := context.Background()
	current := make([]sluice.Row, tableRows+1)
	load := make([]sluice.Change, 0, benchBatch)
	for id := int64(1); id <= tableRows; id++ {
		current[id] = sbRow(rng, id)
		load = append(load, sluice.Change{Op: sluice.OpRead, Table: tb, After: current[id]})
		if len(load) == benchBatch {
			if err := s.Write(ctx, &sink.Batch{Changes: load}); err != nil {
				b.Fatal(err)
			}
			load = load[:0]
		}
	}
	changes := make([]sluice.Change, 0, benchBatch)
	b.ResetTimer()
	var busy time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		changes = changes[:0]
		for len(changes) < benchBatch {
			// One oltp_write_only transaction: index update, non-index
			// update, delete and insert of one id.
			id := int64(1 + rng.IntN(tableRows))
			old := current[id]
			upK := sluice.Row{id, old[1].(int64) + 1, old[2], old[3]}
			upC := sluice.Row{id, upK[1], sbString(rng, 10), old[3]}
			id2 := int64(1 + rng.IntN(tableRows))
			if id2 == id {
				id2 = id%tableRows + 1
			}
			old2 := current[id2]
			ins := sbRow(rng, id2)
			changes = append(changes,
				sluice.Change{Op: sluice.OpUpdate, Table: tb, Before: old, After: upK},
				sluice.Change{Op: sluice.OpUpdate, Table: tb, Before: upK, After: upC},
				sluice.Change{Op: sluice.OpDelete, Table: tb, Before: old2},
				sluice.Change{Op: sluice.OpInsert, Table: tb, After: ins})
			current[id], current[id2] = upC, ins
		}
		b.StartTimer()
		start := time.Now()
		if err := s.Write(ctx, &sink.Batch{Changes: changes, Position: sluice.Position(fmt.Sprint(i)), Checkpoint: "bench"}); err != nil {
			b.Fatal(err)
		}
		busy += time.Since(start)
	}
	b.ReportMetric(float64(b.N*len(changes))/busy.Seconds(), "changes/s")
}
