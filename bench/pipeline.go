package main

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/sluicecdc/sluice/internal/synthetic"
	"github.com/sluicecdc/sluice/pipeline"
)

// pipelineOverhead measures the pipeline alone (issue 2): synthetic source →
// discard sink(s), changes/s and allocations per change, beside the goals.
func pipelineOverhead() error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	fmt.Println("== Pipeline overhead: in-memory source → no-op sink ==")
	for _, sinks := range []int{1, 2} {
		r := testing.Benchmark(func(b *testing.B) { synthetic.Benchmark(b, sinks, pipeline.Config{Logger: quiet}) })
		perSec := float64(r.N) / r.T.Seconds()
		fmt.Printf("  %d sink(s): %10.0f changes/s (goal ≥ 1,000,000)  %.3f allocs/change (goal ≤ 1)  %d ns/change\n",
			sinks, perSec, float64(r.MemAllocs)/float64(r.N), r.NsPerOp())
	}
	return nil
}
