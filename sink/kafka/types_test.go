package kafka_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/kafkaread"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
)

// allTypes is a table with a column for every entry of the MySQL source's
// fidelity table (SPEC S2) plus the other neutral kinds, and rows with their
// edge values.
func allTypes(t testing.TB, name string) (*sluice.Table, []sluice.Row) {
	col := func(n string, ty sluice.Type) sluice.Column { return sluice.Column{Name: n, Type: ty, Nullable: true} }
	cols := []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		col("i8", sluice.Type{Kind: sluice.KindInt, Bits: 8}),
		col("i16", sluice.Type{Kind: sluice.KindInt, Bits: 16}),
		col("i24", sluice.Type{Kind: sluice.KindInt, Bits: 24}),
		col("i32", sluice.Type{Kind: sluice.KindInt, Bits: 32}),
		col("i64", sluice.Type{Kind: sluice.KindInt, Bits: 64}),
		col("u8", sluice.Type{Kind: sluice.KindUint, Bits: 8}),
		col("u16", sluice.Type{Kind: sluice.KindUint, Bits: 16}),
		col("u24", sluice.Type{Kind: sluice.KindUint, Bits: 24}),
		col("u32", sluice.Type{Kind: sluice.KindUint, Bits: 32}),
		col("u64", sluice.Type{Kind: sluice.KindUint, Bits: 64}),
		col("f32", sluice.Type{Kind: sluice.KindFloat32}),
		col("f64", sluice.Type{Kind: sluice.KindFloat64}),
		col("dec65", sluice.Type{Kind: sluice.KindDecimal, Precision: 65, Scale: 30}),
		col("dec10", sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}),
		col("dec0", sluice.Type{Kind: sluice.KindDecimal, Precision: 20, Scale: 0}),
		col("decfree", sluice.Type{Kind: sluice.KindDecimal}),
		col("bit1", sluice.Type{Kind: sluice.KindBit, Length: 1}),
		col("bit64", sluice.Type{Kind: sluice.KindBit, Length: 64}),
		col("bit12", sluice.Type{Kind: sluice.KindBit, Length: 12}),
		col("tiny1", sluice.Type{Kind: sluice.KindBool}),
		col("vc", sluice.Type{Kind: sluice.KindString, Length: 255}),
		col("latin", sluice.Type{Kind: sluice.KindString, Length: 10, Fixed: true}),
		col("txt", sluice.Type{Kind: sluice.KindString}),
		col("bin", sluice.Type{Kind: sluice.KindBytes, Length: 4, Fixed: true}),
		col("blob", sluice.Type{Kind: sluice.KindBytes}),
		col("d", sluice.Type{Kind: sluice.KindDate}),
		col("tm", sluice.Type{Kind: sluice.KindTime, Scale: 6}),
		col("tm0", sluice.Type{Kind: sluice.KindTime}),
		col("dt", sluice.Type{Kind: sluice.KindDateTime, Scale: 6}),
		col("dt0", sluice.Type{Kind: sluice.KindDateTime}),
		col("ts", sluice.Type{Kind: sluice.KindTimestamp, Scale: 6}),
		col("ts0", sluice.Type{Kind: sluice.KindTimestamp}),
		col("yr", sluice.Type{Kind: sluice.KindYear}),
		col("en", sluice.Type{Kind: sluice.KindEnum, Members: []string{"small", "x-large", "a b"}}),
		col("st", sluice.Type{Kind: sluice.KindSet, Members: []string{"a", "b", "c"}}),
		col("js", sluice.Type{Kind: sluice.KindJSON}),
		col("geo", sluice.Type{Kind: sluice.KindGeometry, SRID: 4326}),
		col("uid", sluice.Type{Kind: sluice.KindUUID}),
		col("Spaced name ü", sluice.Type{Kind: sluice.KindString}),
		{Name: "nn", Type: sluice.Type{Kind: sluice.KindString}},
	}
	tb, err := sluice.NewTable(sluice.TableID{Schema: "shop", Name: name}, cols, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	point := sluice.Geometry{0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40}
	rows := []sluice.Row{
		{int64(1), int64(-128), int64(-32768), int64(-8388608), int64(math.MinInt32), int64(math.MinInt64),
			uint64(255), uint64(65535), uint64(16777215), uint64(math.MaxUint32), uint64(math.MaxUint64),
			float32(3.4028235e38), -math.MaxFloat64,
			sluice.Decimal("-99999999999999999999999999999999999.999999999999999999999999999999"), sluice.Decimal("-12.50"), sluice.Decimal("18446744073709551615"), sluice.Decimal("-3.14159265358979323846264338327950288"),
			uint64(1), uint64(math.MaxUint64), uint64(0xabc), true,
			"héllo 😀 \"quoted\" \\ \n\t\x01 end", "çà", "", []byte{0, 1, 0xfe, 0xff}, []byte{},
			sluice.Date{Year: 9999, Month: 12, Day: 31}, -(838*time.Hour + 59*time.Minute + 59*time.Second), 838*time.Hour + 59*time.Minute + 59*time.Second,
			time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2038, 1, 19, 3, 14, 7, 999999000, time.UTC), time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC),
			int64(2155), "a b", "a,c", sluice.JSON(`{"a":[1,2.5,"x"],"b":null,"c":"ü\"q"}`), point,
			"123e4567-e89b-12d3-a456-426614174000", "quoted \"id\"", "not null"},
		{int64(2), int64(127), int64(32767), int64(8388607), int64(math.MaxInt32), int64(math.MaxInt64),
			uint64(0), uint64(0), uint64(0), uint64(0), uint64(1 << 63),
			float32(-1.5e-45), 5e-324,
			sluice.Decimal("0.000000000000000000000000000001"), sluice.Decimal("99999999.99"), sluice.Decimal("0"), sluice.Decimal("42"),
			uint64(0), uint64(1 << 63), uint64(0xfff), false,
			"", "", "x", []byte{0xff, 0xff, 0xff, 0xff}, []byte("\x00\x00"),
			sluice.Date{Year: 1000, Month: 1, Day: 1}, 12*time.Hour + 34*time.Minute + 56*time.Second + 123456*time.Microsecond, -time.Second,
			time.Date(1000, 1, 1, 0, 0, 0, 1000, time.UTC), time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC),
			time.Date(1970, 1, 1, 0, 0, 1, 1000, time.UTC), time.Date(2038, 1, 19, 3, 14, 7, 0, time.UTC),
			int64(0), "small", "", sluice.JSON(`[]`), point,
			"00000000-0000-0000-0000-000000000000", "", ""},
		// Every nullable column NULL, and a kept zero date.
		func() sluice.Row {
			r := make(sluice.Row, len(cols))
			r[0], r[len(r)-1] = int64(3), "n"
			r[26] = sluice.Date{}
			return r
		}(),
	}
	return tb, rows
}

// TestTypeFidelity proves SPEC K3 (Avro with logical types in the Confluent
// wire format, schemas fetched from the registry by id; JSON) and the value
// side of S2/T4: every value survives encoding and decoding exactly.
func TestTypeFidelity(t *testing.T) {
	k := testenv.Kafka(t)
	reg := registrytest.New()
	defer reg.Close()
	for _, tc := range []struct {
		name string
		enc  kafka.Encoding
		env  kafka.Envelope
	}{
		{"avro_sluice", kafka.Avro, kafka.EnvelopeSluice},
		{"avro_debezium", kafka.Avro, kafka.EnvelopeDebezium},
		{"json_sluice", kafka.JSON, kafka.EnvelopeSluice},
		{"json_debezium", kafka.JSON, kafka.EnvelopeDebezium},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tb, rows := allTypes(t, "alltypes_"+tc.name)
			s, err := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, Encoding: tc.enc, Envelope: tc.env, Tombstones: true,
				Registry: kafka.RegistryConfig{URL: reg.URL()}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var changes []sluice.Change
			commit := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
			for _, r := range rows {
				changes = append(changes, sluice.Change{Op: sluice.OpInsert, Table: tb, After: r, Time: commit})
			}
			changes = append(changes,
				sluice.Change{Op: sluice.OpUpdate, Table: tb, Before: rows[0], After: rows[1][:0:0], Time: commit},
				sluice.Change{Op: sluice.OpDelete, Table: tb, Before: rows[2], Time: commit, Pos: sluice.Position("pos-1")})
			// The update keeps id 1 and takes the other values of row 2.
			upd := append(sluice.Row{int64(1)}, rows[1][1:]...)
			changes[3].After = upd
			if err := s.Write(ctx, &sink.Batch{Changes: changes, Position: sluice.Position("pos-1")}); err != nil {
				t.Fatal(err)
			}
			recs := k.Records(t, s.TopicFor(tb.ID), 6) // 3 inserts, update, delete, tombstone
			if len(recs) != 6 {
				t.Fatalf("got %d records, want 6", len(recs))
			}
			dec := newDecoder(t, tc.enc, tc.env, reg.URL())
			var got []kafkaread.Decoded
			for _, r := range recs {
				d, err := dec.Decode(tb, r.Key, r.Value)
				if err != nil {
					t.Fatalf("decoding record at partition %d offset %d: %v", r.Partition, r.Offset, err)
				}
				got = append(got, d)
			}
			// Records of one key share a partition and keep their order;
			// pick them by op and key.
			byOp := map[string][]kafkaread.Decoded{}
			for _, d := range got {
				op := d.Op
				if d.Tombstone {
					op = "tombstone"
				}
				byOp[op] = append(byOp[op], d)
			}
			if len(byOp["c"]) != 3 || len(byOp["u"]) != 1 || len(byOp["d"]) != 1 || len(byOp["tombstone"]) != 1 {
				t.Fatalf("ops: %d c, %d u, %d d, %d tombstones; want 3, 1, 1, 1", len(byOp["c"]), len(byOp["u"]), len(byOp["d"]), len(byOp["tombstone"]))
			}
			for _, d := range byOp["c"] {
				id := d.After[0].(int64)
				compareRow(t, tb, fmt.Sprintf("insert id %d", id), d.After, rows[id-1])
				if d.Before != nil {
					t.Errorf("insert id %d: before = %v, want null", id, d.Before)
				}
			}
			compareRow(t, tb, "update before", byOp["u"][0].Before, rows[0])
			compareRow(t, tb, "update after", byOp["u"][0].After, upd)
			compareRow(t, tb, "delete before", byOp["d"][0].Before, rows[2])
			if byOp["d"][0].After != nil {
				t.Errorf("delete: after = %v, want null", byOp["d"][0].After)
			}
			src := byOp["d"][0].Source
			if src["name"] != "sluice" || src["db"] != "shop" || src["table"] != tb.ID.Name {
				t.Errorf("source block = %v", src)
			}
			// The key decodes to the key columns.
			if tc.enc == kafka.Avro {
				if got := byOp["d"][0].Key["id"]; got != int64(3) {
					t.Errorf("delete key id = %v (%T), want 3", got, got)
				}
			}
			// Headers: every record names its transaction (the hash of the
			// position ending it) and its ordinal; only the records of the
			// change ending the transaction (the delete and its tombstone)
			// carry the full position.
			var tx string
			for _, r := range recs {
				var pos, seq, rtx string
				for _, h := range r.Headers {
					switch h.Key {
					case kafka.HeaderPos:
						pos = string(h.Value)
					case kafka.HeaderSeq:
						seq = string(h.Value)
					case kafka.HeaderTx:
						rtx = string(h.Value)
					}
				}
				if tx == "" {
					tx = rtx
				}
				if len(rtx) != 16 || rtx != tx || seq == "" {
					t.Errorf("record offset %d: headers tx=%q seq=%q, want one 16-digit transaction id and a sequence", r.Offset, rtx, seq)
				}
				isEnd := r.Value == nil || strings.Contains(string(r.Value), `"op":"d"`) || (tc.enc == kafka.Avro && seq == "4")
				if isEnd != (pos == "pos-1") {
					t.Errorf("record offset %d (seq %s): position header %q", r.Offset, seq, pos)
				}
			}
		})
	}
}

func compareRow(t *testing.T, tb *sluice.Table, what string, got, want sluice.Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return
	}
	for i, c := range tb.Columns {
		g, w := got[i], want[i]
		if b, ok := w.([]byte); ok && len(b) == 0 {
			if gb, ok := g.([]byte); ok && len(gb) == 0 {
				continue
			}
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: column %q (%s): got %#v, want %#v", what, c.Name, c.Type, g, w)
		}
	}
}
