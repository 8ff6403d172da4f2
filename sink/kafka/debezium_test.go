package kafka_test

import (
	"context"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/registry"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
)

// SPEC K3: the Debezium-compatible layout — record names, envelope and
// source fields, semantic types — as a Debezium consumer expects it.
func TestDebeziumLayout(t *testing.T) {
	k := testenv.Kafka(t)
	reg := registrytest.New()
	defer reg.Close()
	ctx := context.Background()
	s, err := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, Envelope: kafka.EnvelopeDebezium, ServerName: "dbserver1", Registry: kafka.RegistryConfig{URL: reg.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tb, _ := sluice.NewTable(sluice.TableID{Schema: "inventory", Name: "customers"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}},
		{Name: "born", Type: sluice.Type{Kind: sluice.KindDate}, Nullable: true},
		{Name: "balance", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}},
	}, []int{0})
	if err := s.Write(ctx, &sink.Batch{Changes: []sluice.Change{{Op: sluice.OpRead, Table: tb,
		After: sluice.Row{int64(1001), sluice.Date{Year: 1990, Month: 5, Day: 17}, sluice.Decimal("12.50")}, Pos: sluice.Position("p")}}}); err != nil {
		t.Fatal(err)
	}
	if topic := s.TopicFor(tb.ID); topic != "dbserver1.inventory.customers" {
		t.Fatalf("topic %q", topic)
	}
	recs := k.Records(t, "dbserver1.inventory.customers", 1)
	rc, _ := registry.New(registry.Config{URL: reg.URL()})
	schemaOf := func(b []byte) *avro.RecordSchema {
		txt, err := rc.SchemaByID(ctx, int(binary.BigEndian.Uint32(b[1:5])))
		if err != nil {
			t.Fatal(err)
		}
		sch, err := avro.ParseWithCache(txt, "", &avro.SchemaCache{})
		if err != nil {
			t.Fatal(err)
		}
		return sch.(*avro.RecordSchema)
	}
	env := schemaOf(recs[0].Value)
	key := schemaOf(recs[0].Key)
	if env.FullName() != "dbserver1.inventory.customers.Envelope" || key.FullName() != "dbserver1.inventory.customers.Key" {
		t.Fatalf("record names %s, %s", env.FullName(), key.FullName())
	}
	if env.Prop("connect.name") != "dbserver1.inventory.customers.Envelope" {
		t.Errorf("envelope connect.name %v", env.Prop("connect.name"))
	}
	names := func(r *avro.RecordSchema) []string {
		var out []string
		for _, f := range r.Fields() {
			out = append(out, f.Name())
		}
		return out
	}
	if got := names(env); !slices.Equal(got[:5], []string{"before", "after", "source", "op", "ts_ms"}) {
		t.Errorf("envelope fields %v", got)
	}
	var value, source *avro.RecordSchema
	for _, f := range env.Fields() {
		switch f.Name() {
		case "before":
			value = f.Type().(*avro.UnionSchema).Types()[1].(*avro.RecordSchema)
		case "source":
			source = f.Type().(*avro.RecordSchema)
		}
	}
	if value.FullName() != "dbserver1.inventory.customers.Value" {
		t.Errorf("value record %s", value.FullName())
	}
	if source.FullName() != "io.debezium.connector.sluice.Source" ||
		!slices.Equal(names(source)[:8], []string{"version", "connector", "name", "ts_ms", "snapshot", "db", "sequence", "table"}) {
		t.Errorf("source %s %v", source.FullName(), names(source))
	}
	for _, f := range value.Fields() {
		typ := f.Type()
		if u, ok := typ.(*avro.UnionSchema); ok {
			typ = u.Types()[1]
		}
		p, _ := typ.(avro.PropertySchema)
		switch f.Name() {
		case "born":
			if p == nil || p.Prop("connect.name") != "io.debezium.time.Date" {
				t.Errorf("born: %s", typ)
			}
		case "balance":
			if p == nil || p.Prop("connect.name") != "org.apache.kafka.connect.data.Decimal" {
				t.Errorf("balance: %s", typ)
			}
		}
	}
	var m map[string]any
	full, _ := avro.ParseWithCache(env.String(), "", &avro.SchemaCache{})
	if err := avro.Unmarshal(full, recs[0].Value[5:], &m); err != nil {
		t.Fatal(err)
	}
	src := m["source"].(map[string]any)
	if m["op"] != "r" || src["connector"] != "sluice" || src["name"] != "dbserver1" || src["db"] != "inventory" {
		t.Errorf("envelope %v", m)
	}
	snap := src["snapshot"]
	if m, ok := snap.(map[string]any); ok {
		snap = m["string"]
	}
	if snap != "true" {
		t.Errorf("source.snapshot %v, want the string \"true\"", src["snapshot"])
	}
}
