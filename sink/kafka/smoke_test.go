package kafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
)

func TestSmoke(t *testing.T) {
	k := testenv.Kafka(t)
	reg := registrytest.New()
	defer reg.Close()
	ctx := context.Background()
	s, err := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, Registry: kafka.RegistryConfig{URL: reg.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := sluice.NewTable(sluice.TableID{Schema: "db", Name: "t"}, []sluice.Column{{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}}, {Name: "v", Type: sluice.Type{Kind: sluice.KindString}, Nullable: true}}, []int{0})
	var ch []sluice.Change
	for i := 0; i < 10; i++ {
		ch = append(ch, sluice.Change{Op: sluice.OpInsert, Table: tb, After: sluice.Row{int64(i), "x"}, Time: time.Now(), Pos: sluice.Position("p")})
	}
	if err := s.Write(ctx, &sink.Batch{Changes: ch}); err != nil {
		t.Fatal(err)
	}
	recs := k.Records(t, s.TopicFor(tb.ID), 10)
	t.Log(len(recs), recs[0].Headers, recs[0].Partition)
}
