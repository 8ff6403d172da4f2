package kafka_test

import (
	"context"
	"testing"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
)

// A table without a key: null keys, every record in one partition, in order.
func TestKeylessTableKeepsOrder(t *testing.T) {
	k := testenv.Kafka(t)
	ctx := context.Background()
	s, err := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, Encoding: kafka.JSON, ServerName: "keyless"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tb, _ := sluice.NewTable(sluice.TableID{Schema: "db", Name: "log"}, []sluice.Column{{Name: "n", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}}}, nil)
	var ch []sluice.Change
	for i := 0; i < 200; i++ {
		ch = append(ch, sluice.Change{Op: sluice.OpInsert, Table: tb, After: sluice.Row{int64(i)}})
	}
	if err := s.Write(ctx, &sink.Batch{Changes: ch}); err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, p := range readTopic(t, k.Brokers, s.TopicFor(tb.ID)) {
		if len(p) == 0 {
			continue
		}
		used++
		if len(p) != 200 {
			t.Fatalf("partition has %d records, want all 200", len(p))
		}
		d := newDecoder(t, kafka.JSON, kafka.EnvelopeSluice, "")
		for i, r := range p {
			if r.Key != nil {
				t.Fatalf("record %d has key %q, want null", i, r.Key)
			}
			dc, err := d.Decode(tb, r.Key, r.Value)
			if err != nil || dc.After[0] != int64(i) {
				t.Fatalf("record %d: %v %v", i, dc.After, err)
			}
		}
	}
	if used != 1 {
		t.Fatalf("records in %d partitions, want 1", used)
	}
}

// Topic.CreatePartitions creates missing topics with that many partitions.
func TestCreateTopic(t *testing.T) {
	k := testenv.Kafka(t)
	ctx := context.Background()
	s, err := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, Encoding: kafka.JSON, ServerName: "created", Topic: kafka.TopicConfig{CreatePartitions: 7}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tb := topicsTable(t, "db", "made")
	if err := s.Write(ctx, &sink.Batch{Changes: []sluice.Change{{Op: sluice.OpInsert, Table: tb, After: sluice.Row{int64(1), "x"}}}}); err != nil {
		t.Fatal(err)
	}
	tr := &kafkago.Transport{}
	defer tr.CloseIdleConnections()
	md, err := (&kafkago.Client{Addr: kafkago.TCP(k.Brokers...), Transport: tr}).Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{s.TopicFor(tb.ID)}})
	if err != nil || len(md.Topics) != 1 || len(md.Topics[0].Partitions) != 7 {
		t.Fatalf("metadata %+v, %v: want 7 partitions", md, err)
	}
}

// SPEC P4: the precheck reports an unreachable registry or broker, with a
// remedy, without writing anything.
func TestPrecheck(t *testing.T) {
	k := testenv.Kafka(t)
	reg := registrytest.New()
	url := reg.URL()
	reg.Close()
	ctx := context.Background()
	s, err := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, Registry: kafka.RegistryConfig{URL: url}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keyless, _ := sluice.NewTable(sluice.TableID{Schema: "db", Name: "nokey"}, []sluice.Column{{Name: "n", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}}}, nil)
	got := map[string]sluice.Status{}
	for _, c := range s.Precheck(ctx, []*sluice.Table{keyless}) {
		got[c.Item] = c.Status
		if c.Status != sluice.StatusOK && c.Remedy == "" {
			t.Errorf("%s: no remedy", c)
		}
	}
	if got["kafka: brokers reachable"] != sluice.StatusOK || got["kafka: schema registry reachable"] != sluice.StatusFail ||
		got["kafka: table db.nokey: primary key"] != sluice.StatusWarn {
		t.Fatalf("checks %v", got)
	}
	down, _ := kafka.New(ctx, kafka.Config{Brokers: []string{"127.0.0.1:1"}, Encoding: kafka.JSON, DialTimeout: 200_000_000})
	defer down.Close()
	if c := down.Precheck(ctx, nil); len(c) != 1 || c[0].Status != sluice.StatusFail {
		t.Fatalf("unreachable broker: %v", c)
	}
}
