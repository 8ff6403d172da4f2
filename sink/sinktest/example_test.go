package sinktest_test

import (
	"testing"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/sinktest"
)

// memTarget is a toy target: its "materialized state" is what a toy sink
// stored. A real backend opens its sink on a fresh database or topic prefix
// and reads the rows back converted to neutral values.
type memTarget struct{}

func (memTarget) Open(t *testing.T) sink.Sink                         { t.Fatal("toy"); return nil }
func (memTarget) Read(t *testing.T, table *sluice.Table) []sluice.Row { return nil }

// A backend's test runs the suite with a harness that makes fresh targets
// and lists the optional features it supports; cases needing others are
// logged as not run.
func ExampleRun() {
	h := sinktest.Harness{
		NewTarget: func(t *testing.T) sinktest.Target { return memTarget{} },
		Features:  []sinktest.Feature{sinktest.Truncate, sinktest.AddColumn},
	}
	// In a test: func TestConformance(t *testing.T) { sinktest.Run(t, h) }
	_ = h
}
