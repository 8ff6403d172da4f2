package pipeline_test

import (
	"context"
	"fmt"
	"log"
	"strconv"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/checkpoint"
	"github.com/sluicecdc/sluice/pipeline"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/source"
)

// countSource emits three one-row transactions; real programs use
// source/mysql or source/postgres.
type countSource struct{}

var table, _ = sluice.NewTable(sluice.TableID{Schema: "shop", Name: "orders"},
	[]sluice.Column{{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}}}, []int{0})

func (countSource) Tables(context.Context) ([]*sluice.Table, error) {
	return []*sluice.Table{table}, nil
}
func (countSource) Run(_ context.Context, from sluice.Position, out source.Emitter) error {
	for i := 1; i <= 3; i++ {
		c := sluice.Change{Op: sluice.OpInsert, Table: table, After: sluice.Row{int64(i)}, Pos: sluice.Position(strconv.Itoa(i))}
		if err := out.Emit(c); err != nil {
			return err
		}
	}
	return nil // a finite source: Run delivers everything, then returns
}
func (countSource) Ack(context.Context, sluice.Position) error { return nil }
func (countSource) Close() error                               { return nil }

// printSink prints what it receives; real programs use sink/postgres,
// sink/mysql or sink/kafka.
type printSink struct{}

func (printSink) Write(_ context.Context, b *sink.Batch) error {
	for _, c := range b.Changes {
		fmt.Println(c.Op, c.Table.ID, c.After)
	}
	return nil
}
func (printSink) Close() error { return nil }

func Example() {
	store := checkpoint.NewMemory()
	p, err := pipeline.New(pipeline.Config{
		Name:        "orders",
		Source:      countSource{},
		Sinks:       []sink.Sink{printSink{}},
		Checkpoints: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
	pos, _ := store.Load(context.Background(), "orders")
	fmt.Println("checkpoint:", string(pos), "state:", p.State())
	// Output:
	// insert shop.orders [1]
	// insert shop.orders [2]
	// insert shop.orders [3]
	// checkpoint: 3 state: stopped
}
