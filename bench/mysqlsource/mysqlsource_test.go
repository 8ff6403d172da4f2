package mysqlsource

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestBench runs the benchmark when BENCH_MYSQLSOURCE=1 (it loads a million
// rows; `make bench` sets it). Otherwise it runs a small smoke version that
// checks the machinery end to end, asserting nothing about speed.
func TestBench(t *testing.T) {
	o := Options{Rows: 20000}
	if os.Getenv("BENCH_MYSQLSOURCE") == "1" {
		o.Rows = 1000000
	}
	if s := os.Getenv("BENCH_ROWS"); s != "" {
		o.Rows, _ = strconv.Atoi(s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	res, err := Measure(ctx, testWriter{t}, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.SnapshotRowsPerSec <= 0 || res.StreamPerSec <= 0 || res.RawPerSec <= 0 {
		t.Fatalf("no rates measured: %+v", res)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
