package transform

import (
	"fmt"

	"github.com/sluicecdc/sluice"
)

// Chain composes transforms: Bind binds each to the table the previous one
// outputs (stopping when one drops the table), and Map feeds every change
// through them in order. Its Mapper reuses two internal buffers, so Map
// allocates nothing in steady state beyond what the transforms themselves
// do; like every Mapper it is used by one goroutine at a time.
func Chain(ts ...Transform) Transform {
	return Func(func(t *sluice.Table) (Mapper, error) {
		cm := &chainMapper{out: t}
		for i, tr := range ts {
			m, err := tr.Bind(cm.out)
			if err != nil {
				return nil, fmt.Errorf("transform %d (%T): %w", i, tr, err)
			}
			cm.ms = append(cm.ms, m)
			if cm.out = m.Table(); cm.out == nil {
				break
			}
		}
		return cm, nil
	})
}

type chainMapper struct {
	ms   []Mapper
	out  *sluice.Table
	a, b []sluice.Change
}

func (cm *chainMapper) Table() *sluice.Table { return cm.out }

func (cm *chainMapper) Map(c sluice.Change, out []sluice.Change) ([]sluice.Change, error) {
	switch len(cm.ms) {
	case 0:
		return append(out, c), nil
	case 1:
		return cm.ms[0].Map(c, out)
	}
	in := append(cm.a[:0], c)
	for _, m := range cm.ms {
		next := cm.b[:0]
		var err error
		for j := range in {
			if next, err = m.Map(in[j], next); err != nil {
				clear(in)
				clear(next)
				return out, err
			}
		}
		cm.a, cm.b = next, in
		in = next
		if len(in) == 0 {
			break
		}
	}
	out = append(out, in...)
	clear(cm.a) // drop row references so the buffers do not pin them
	clear(cm.b)
	return out, nil
}
