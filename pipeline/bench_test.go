package pipeline_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/sluicecdc/sluice/internal/synthetic"
	"github.com/sluicecdc/sluice/pipeline"
)

// BenchmarkPipeline measures in-memory source → no-op sink throughput; one
// op is one change. Goal (issue 2): ≥ 1,000,000 changes/s and ≤ 1 alloc per
// change of pipeline overhead. `make bench` prints it beside the goal.
func BenchmarkPipeline(b *testing.B) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.Run("one-sink", func(b *testing.B) { synthetic.Benchmark(b, 1, pipeline.Config{Logger: quiet}) })
	b.Run("fan-out-2", func(b *testing.B) { synthetic.Benchmark(b, 2, pipeline.Config{Logger: quiet}) })
}
