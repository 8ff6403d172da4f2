package pipeline

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/source"
)

// benchSource emits n pre-built changes, a transaction end every 10, so the
// benchmark measures the pipeline's own cost per change.
type benchSource struct {
	n       int
	changes []sluice.Change
}

func (s *benchSource) Tables(context.Context) ([]*sluice.Table, error) {
	return []*sluice.Table{testTable}, nil
}

func (s *benchSource) Run(_ context.Context, _ sluice.Position, out source.Emitter) error {
	for i := 0; i < s.n; i++ {
		if err := out.Emit(s.changes[i%len(s.changes)]); err != nil {
			return err
		}
	}
	return nil
}

func (s *benchSource) Ack(context.Context, sluice.Position) error { return nil }
func (s *benchSource) Close() error                               { return nil }

type nopSink struct{ n int }

func (s *nopSink) Write(_ context.Context, b *sink.Batch) error { s.n += len(b.Changes); return nil }
func (s *nopSink) Close() error                                 { return nil }

func prebuilt() []sluice.Change {
	cs := make([]sluice.Change, 1000)
	now := time.Now()
	for i := range cs {
		cs[i] = sluice.Change{Op: sluice.OpInsert, Table: testTable, Time: now, Size: 64,
			After: sluice.Row{int64(i / 10), int64(i % 10), i%10 == 9}}
		if i%10 == 9 {
			cs[i].Pos = pos(i/10 + 1)
		}
	}
	return cs
}

// BenchmarkPipeline measures in-memory source → no-op sink throughput; one
// op is one change. Goal (issue 2): ≥ 1,000,000 changes/s and ≤ 1 alloc per
// change of pipeline overhead.
func BenchmarkPipeline(b *testing.B) {
	for _, sinks := range []int{1, 2} {
		b.Run(map[int]string{1: "one-sink", 2: "fan-out-2"}[sinks], func(b *testing.B) {
			n := (b.N + 9) / 10 * 10 // whole transactions: a trailing partial one is never delivered
			src := &benchSource{n: n, changes: prebuilt()}
			var ss []sink.Sink
			for i := 0; i < sinks; i++ {
				ss = append(ss, &nopSink{})
			}
			p, err := New(Config{Name: "bench", Source: src, Sinks: ss, SkipPrecheck: true,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if err := p.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "changes/s")
			if got := ss[0].(*nopSink).n; got != n {
				b.Fatalf("sink got %d changes, want %d", got, n)
			}
		})
	}
}
