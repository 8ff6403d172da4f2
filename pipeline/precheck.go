package pipeline

import (
	"context"
	"fmt"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/source"
)

// Precheck checks, without writing anything, that the pipeline can run
// (SPEC P4): the source's own checks, that the selected tables resolve, that
// every transform binds to every table, that the checkpoint store is
// readable, and each sink's checks for the mapped tables. Run calls it first
// unless Config.SkipPrecheck is set, and refuses to start when an item fails.
func (p *Pipeline) Precheck(ctx context.Context) *sluice.Report {
	r := &sluice.Report{}
	if pc, ok := p.src.(source.Prechecker); ok {
		r.Add(pc.Precheck(ctx)...)
	}
	tables, err := p.src.Tables(ctx)
	if err != nil {
		r.Add(sluice.Check{Item: "source tables", Status: sluice.StatusFail, Cause: err.Error(),
			Remedy: "check the source's table selection and that the source is reachable"})
	} else if len(tables) == 0 {
		r.Add(sluice.Check{Item: "source tables", Status: sluice.StatusWarn, Cause: "the selection matches no table",
			Remedy: "check the source's table selection"})
	} else {
		r.Add(sluice.Check{Item: fmt.Sprintf("source tables (%d)", len(tables)), Status: sluice.StatusOK})
	}
	mapped, _ := p.mapTables(tables, func(t *sluice.Table, err error) {
		r.Add(sluice.Check{Item: "transforms for table " + t.ID.String(), Status: sluice.StatusFail, Cause: err.Error(),
			Remedy: "fix the transform configuration for this table or exclude the table"})
	})
	if _, err := p.cfg.Checkpoints.Load(ctx, p.cfg.Name); err != nil {
		r.Add(sluice.Check{Item: "checkpoint store", Status: sluice.StatusFail, Cause: err.Error(),
			Remedy: "make the checkpoint store readable, or remove the damaged checkpoint to start over"})
	}
	for i, s := range p.cfg.Sinks {
		if pc, ok := s.(sink.Prechecker); ok {
			for _, c := range pc.Precheck(ctx, mapped) {
				if len(p.cfg.Sinks) > 1 {
					c.Item = fmt.Sprintf("sink %d: %s", i, c.Item)
				}
				r.Add(c)
			}
		}
	}
	return r
}
