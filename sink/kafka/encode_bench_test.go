package kafka

import (
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicecdc/sluice"
)

// BenchmarkEncodeAvro compares the hand-written per-table encoder (one op:
// the key and envelope of one sysbench-style insert) with hamba/avro
// marshaling the same envelope from a map (its generic path), the
// alternative it replaces.
func BenchmarkEncodeAvro(b *testing.B) {
	cfg := Config{Brokers: []string{"x:1"}, Registry: RegistryConfig{URL: "http://r"}}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	tb, _ := sluice.NewTable(sluice.TableID{Schema: "sbtest", Name: "sbtest1"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}},
		{Name: "k", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}},
		{Name: "c", Type: sluice.Type{Kind: sluice.KindString, Length: 120}},
		{Name: "pad", Type: sluice.Type{Kind: sluice.KindString, Length: 60}},
	}, []int{0})
	cd, err := newCodec(&cfg, tb, &topicState{name: "t", groups: make([]partGroup, 4)})
	if err != nil {
		b.Fatal(err)
	}
	cd.setIDs(1, 2)
	c := "83868641912-28773972837-60736120486-75162659906-27563526494-20381887404-41576422241-93426793964-56405065102-33518432330"
	pad := "67847967377-48000963322-62604785301-91415491898-96926520291"
	row := sluice.Row{int64(42), int64(7), c, pad}
	m := &msgInfo{op: 'c', tsMs: time.Now().UnixMilli(), nowMs: time.Now().UnixMilli()}
	b.Run("handwritten", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for i := 0; i < b.N; i++ {
			buf = buf[:0]
			buf, _ = cd.appendKey(buf, row)
			buf, _ = cd.appendValue(buf, nil, row, m, nil)
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("hamba-map", func(b *testing.B) {
		b.ReportAllocs()
		ks := avro.MustParse(cd.keySchema)
		vs, err := avro.ParseWithCache(cd.valueSchema, "", &avro.SchemaCache{})
		if err != nil {
			b.Fatal(err)
		}
		var n int
		for i := 0; i < b.N; i++ {
			k, err := avro.Marshal(ks, map[string]any{"id": int(row[0].(int64))})
			if err != nil {
				b.Fatal(err)
			}
			v, err := avro.Marshal(vs, map[string]any{
				"before": nil,
				"after":  map[string]any{cd.ns + ".Value": map[string]any{"id": int(row[0].(int64)), "k": int(row[1].(int64)), "c": row[2], "pad": row[3]}},
				"source": map[string]any{"name": "sluice", "db": "sbtest", "table": "sbtest1", "position": nil, "ts_ms": m.tsMs, "snapshot": false},
				"op":     "c", "ts_ms": m.nowMs, "unchanged": []string{},
			})
			if err != nil {
				b.Fatal(err)
			}
			n = len(k) + len(v) + 10
		}
		b.SetBytes(int64(n))
	})
}
