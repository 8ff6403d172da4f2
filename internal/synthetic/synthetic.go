// Package synthetic provides an in-memory Source that replays pre-built
// changes and a Sink that discards them, to measure the pipeline's own cost
// per change (pipeline benchmarks and `make bench`).
package synthetic

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/pipeline"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/source"
)

// Table is the table the synthetic changes belong to.
var Table, _ = sluice.NewTable(sluice.TableID{Schema: "synthetic", Name: "t"}, []sluice.Column{
	{Name: "txn", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
	{Name: "idx", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
}, []int{0, 1})

// TxSize is the number of changes per synthetic transaction.
const TxSize = 10

// Source emits N changes (whole transactions of TxSize) cycling through a
// thousand pre-built ones, so emitting costs no allocation.
type Source struct {
	N       int
	changes []sluice.Change
}

// NewSource returns a source of n changes, rounded up to whole transactions.
func NewSource(n int) *Source {
	cs := make([]sluice.Change, 1000)
	now := time.Now()
	for i := range cs {
		cs[i] = sluice.Change{Op: sluice.OpInsert, Table: Table, Time: now, Size: 64,
			After: sluice.Row{int64(i / TxSize), int64(i % TxSize)}}
		if i%TxSize == TxSize-1 {
			cs[i].Pos = sluice.Position(strconv.Itoa(i/TxSize + 1))
		}
	}
	return &Source{N: (n + TxSize - 1) / TxSize * TxSize, changes: cs}
}

// Tables returns Table.
func (s *Source) Tables(context.Context) ([]*sluice.Table, error) { return []*sluice.Table{Table}, nil }

// Run emits the changes, then returns.
func (s *Source) Run(_ context.Context, _ sluice.Position, out source.Emitter) error {
	for i := 0; i < s.N; i++ {
		if err := out.Emit(s.changes[i%len(s.changes)]); err != nil {
			return err
		}
	}
	return nil
}

// Ack does nothing.
func (s *Source) Ack(context.Context, sluice.Position) error { return nil }

// Close does nothing.
func (s *Source) Close() error { return nil }

// Discard is a sink that counts and drops what it gets.
type Discard struct{ Changes int }

// Write counts the batch's changes.
func (d *Discard) Write(_ context.Context, b *sink.Batch) error {
	d.Changes += len(b.Changes)
	return nil
}

// Close does nothing.
func (d *Discard) Close() error { return nil }

// Benchmark runs b.N changes from a Source through a pipeline into sinks
// Discard sinks and reports changes/s; one op is one change.
func Benchmark(b *testing.B, sinks int, cfg pipeline.Config) {
	src := NewSource(b.N)
	ds := make([]*Discard, sinks)
	cfg.Source, cfg.Sinks, cfg.SkipPrecheck = src, nil, true
	for i := range ds {
		ds[i] = &Discard{}
		cfg.Sinks = append(cfg.Sinks, ds[i])
	}
	if cfg.Name == "" {
		cfg.Name = "synthetic"
	}
	p, err := pipeline.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(src.N)/time.Since(start).Seconds(), "changes/s")
	for _, d := range ds {
		if d.Changes != src.N {
			b.Fatalf("sink got %d changes, want %d", d.Changes, src.N)
		}
	}
}
