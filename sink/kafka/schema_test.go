package kafka_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/registry"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
)

// SPEC K3, S3: ADD COLUMN registers a new schema version; old and new
// messages decode with the schema their id names; an incompatible change
// (a column's type changed, a NOT NULL column added) surfaces the
// registry's error naming the subject and the reason, as a permanent error.
func TestSchemaEvolution(t *testing.T) {
	k := testenv.Kafka(t)
	reg := registrytest.New()
	defer reg.Close()
	ctx := context.Background()
	s, err := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, Registry: kafka.RegistryConfig{URL: reg.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := sluice.TableID{Schema: "evo", Name: "items"}
	v1, _ := sluice.NewTable(id, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "name", Type: sluice.Type{Kind: sluice.KindString}},
	}, []int{0})
	v2, _ := sluice.NewTable(id, append(append([]sluice.Column{}, v1.Columns...),
		sluice.Column{Name: "price", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}, Nullable: true}), []int{0})
	now := time.Now()
	err = s.Write(ctx, &sink.Batch{Changes: []sluice.Change{
		{Op: sluice.OpInsert, Table: v1, After: sluice.Row{int64(1), "a"}, Time: now},
		{Op: sluice.OpSchema, Table: v2, OldTable: v1, DDL: "ALTER TABLE items ADD COLUMN price DECIMAL(10,2)", Time: now},
		{Op: sluice.OpInsert, Table: v2, After: sluice.Row{int64(2), "b", sluice.Decimal("9.99")}, Time: now, Pos: sluice.Position("p1")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	topic := s.TopicFor(id)
	if n := reg.Versions(topic + "-value"); n != 2 {
		t.Fatalf("%s-value has %d versions, want 2 after ADD COLUMN", topic, n)
	}
	if n := reg.Versions(topic + "-key"); n != 1 {
		t.Fatalf("%s-key has %d versions, want 1 (the key did not change)", topic, n)
	}
	dec := newDecoder(t, kafka.Avro, kafka.EnvelopeSluice, reg.URL())
	ids := map[int]bool{}
	rows := materialize(t, k.Brokers, topic, v2, dec)
	for _, p := range readTopic(t, k.Brokers, topic) {
		for _, r := range p {
			d, err := dec.Decode(v2, r.Key, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			ids[d.ValID] = true
		}
	}
	if len(ids) != 2 || len(rows) != 2 {
		t.Fatalf("value schema ids %v, rows %v: want 2 ids and 2 rows", ids, rows)
	}

	// VARCHAR → INT: BACKWARD-incompatible. The precheck sees it without
	// registering anything (SPEC P4)...
	v3, _ := sluice.NewTable(id, []sluice.Column{v2.Columns[0], {Name: "name", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}}, v2.Columns[2]}, []int{0})
	var failed []sluice.Check
	for _, c := range s.Precheck(ctx, []*sluice.Table{v2, v3}) {
		if c.Status != sluice.StatusOK {
			failed = append(failed, c)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0].Item, topic+"-value") || !strings.Contains(failed[0].Cause, "cannot read data written with version 2") {
		t.Fatalf("precheck: %v; want one failure for %s-value with the reason", failed, topic)
	}
	if n := reg.Versions(topic + "-value"); n != 2 {
		t.Fatalf("the precheck registered a version (%d)", n)
	}
	// ... and Write (or SyncSchema) surfaces the registry's refusal.
	if err := s.SyncSchema(ctx, []*sluice.Table{v3}); !errors.Is(err, registry.ErrIncompatible) {
		t.Fatalf("SyncSchema: %v, want ErrIncompatible", err)
	}
	err = s.Write(ctx, &sink.Batch{Changes: []sluice.Change{{Op: sluice.OpInsert, Table: v3, After: sluice.Row{int64(3), int64(7), nil}, Time: now}}})
	if err == nil {
		t.Fatal("an incompatible schema was accepted")
	}
	if !errors.Is(err, registry.ErrIncompatible) || !sluice.IsPermanent(err) {
		t.Fatalf("error %v: want registry.ErrIncompatible, permanent", err)
	}
	for _, want := range []string{topic + "-value", "incompatible", "HTTP 409", "remedy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// ADD COLUMN ... NOT NULL has no default for old records: incompatible too.
	v4, _ := sluice.NewTable(id, append(append([]sluice.Column{}, v2.Columns...), sluice.Column{Name: "qty", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}}), []int{0})
	err = s.Write(ctx, &sink.Batch{Changes: []sluice.Change{{Op: sluice.OpInsert, Table: v4, After: sluice.Row{int64(4), "d", nil, int64(1)}, Time: now}}})
	if !errors.Is(err, registry.ErrIncompatible) {
		t.Fatalf("ADD COLUMN NOT NULL: err = %v, want ErrIncompatible", err)
	}
	// With the subject's compatibility relaxed, the change goes through.
	if err := s.Registry().SetCompatibility(ctx, topic+"-value", "NONE"); err != nil {
		t.Fatal(err)
	}
	s2, _ := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, Registry: kafka.RegistryConfig{URL: reg.URL()}})
	defer s2.Close()
	if err := s2.Write(ctx, &sink.Batch{Changes: []sluice.Change{{Op: sluice.OpInsert, Table: v4, After: sluice.Row{int64(4), "d", nil, int64(1)}, Time: now}}}); err != nil {
		t.Fatalf("after compatibility NONE: %v", err)
	}
}

// RecordNameStrategy registers under the records' full names, so tables
// can share one topic.
func TestRecordNameStrategy(t *testing.T) {
	k := testenv.Kafka(t)
	reg := registrytest.New()
	defer reg.Close()
	ctx := context.Background()
	s, err := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, ServerName: "rns",
		Topic:    kafka.TopicConfig{Routing: kafka.Single, Name: "rns-all"},
		Registry: kafka.RegistryConfig{URL: reg.URL(), SubjectStrategy: kafka.RecordNameStrategy}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, b := topicsTable(t, "db", "a"), topicsTable(t, "db", "b")
	if err := s.Write(ctx, &sink.Batch{Changes: []sluice.Change{
		{Op: sluice.OpInsert, Table: a, After: sluice.Row{int64(1), "x"}},
		{Op: sluice.OpInsert, Table: b, After: sluice.Row{int64(1), "y"}},
	}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"rns.db.a.Envelope", "rns.db.a.Key", "rns.db.b.Envelope", "rns.db.b.Key"}
	if got := reg.Subjects(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("subjects %v, want %v", got, want)
	}
	if n := len(k.Records(t, "rns-all", 2)); n != 2 {
		t.Fatalf("%d records in the shared topic", n)
	}
}
