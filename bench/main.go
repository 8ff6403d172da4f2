// Command bench runs Sluice's side-by-side benchmarks (`make bench` runs it
// after the go test micro-benchmarks). Each scenario starts its own private
// servers and prints its figures beside the comparison it claims.
//
//	go run ./bench                       # every scenario, issue-sized
//	go run ./bench -only mysqlpg -rows 200000 -changes 100000 -live 10s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/sluicecdc/sluice/bench/mysqlpg"
	"github.com/sluicecdc/sluice/bench/mysqlsource"
)

func main() {
	if mysqlpg.IsChild() {
		os.Exit(mysqlpg.Child())
	}
	only := flag.String("only", "", "comma-separated scenarios to run (pipeline, mysqlsource, mysqlpg); default all")
	rows := flag.Int("rows", 0, "rows for the load scenarios (default: the issue's sizes)")
	changes := flag.Int("changes", 0, "mysqlpg: backlog of row changes for the catch-up (default 1,000,000)")
	liveFor := flag.Duration("live", 0, "mysqlpg: duration of the live sysbench run (default 30s)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	want := func(name string) bool { return *only == "" || strings.Contains(","+*only+",", ","+name+",") }
	failed := false
	scenario := func(name string, f func() error) {
		if !want(name) {
			return
		}
		start := time.Now()
		if err := f(); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", name, err)
			failed = true
		}
		fmt.Printf("(%s took %s)\n\n", name, time.Since(start).Round(time.Second))
	}
	scenario("pipeline", pipelineOverhead)
	scenario("mysqlsource", func() error {
		return mysqlsource.RunWith(ctx, os.Stdout, mysqlsource.Options{Rows: *rows / 2})
	})
	scenario("mysqlpg", func() error {
		return mysqlpg.Run(ctx, os.Stdout, mysqlpg.Options{Rows: *rows, Changes: *changes, LiveFor: *liveFor})
	})
	if failed {
		os.Exit(1)
	}
}
