package sinktest

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
)

// kindsTable has a column of every Kind (several widths where it matters),
// all nullable except the key.
func kindsTable(t *testing.T) *sluice.Table {
	T := func(k sluice.Kind) sluice.Type { return sluice.Type{Kind: k} }
	cols := []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "b", Type: T(sluice.KindBool)},
		{Name: "i8", Type: sluice.Type{Kind: sluice.KindInt, Bits: 8}},
		{Name: "i16", Type: sluice.Type{Kind: sluice.KindInt, Bits: 16}},
		{Name: "i24", Type: sluice.Type{Kind: sluice.KindInt, Bits: 24}},
		{Name: "i32", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}},
		{Name: "i64", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "u8", Type: sluice.Type{Kind: sluice.KindUint, Bits: 8}},
		{Name: "u16", Type: sluice.Type{Kind: sluice.KindUint, Bits: 16}},
		{Name: "u24", Type: sluice.Type{Kind: sluice.KindUint, Bits: 24}},
		{Name: "u32", Type: sluice.Type{Kind: sluice.KindUint, Bits: 32}},
		{Name: "u64", Type: sluice.Type{Kind: sluice.KindUint, Bits: 64}},
		{Name: "f32", Type: T(sluice.KindFloat32)},
		{Name: "f64", Type: T(sluice.KindFloat64)},
		{Name: "dec", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 65, Scale: 30}},
		{Name: "money", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 10, Scale: 2}},
		{Name: "dec0", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 20, Scale: 0}},
		{Name: "s", Type: sluice.Type{Kind: sluice.KindString, Length: 255}},
		{Name: "fixed", Type: sluice.Type{Kind: sluice.KindString, Length: 10, Fixed: true}},
		{Name: "txt", Type: T(sluice.KindString)},
		{Name: "bin", Type: sluice.Type{Kind: sluice.KindBytes, Length: 16, Fixed: true}},
		{Name: "blob", Type: T(sluice.KindBytes)},
		{Name: "d", Type: T(sluice.KindDate)},
		{Name: "tm", Type: sluice.Type{Kind: sluice.KindTime, Scale: 6}},
		{Name: "dt", Type: sluice.Type{Kind: sluice.KindDateTime, Scale: 6}},
		{Name: "dt0", Type: sluice.Type{Kind: sluice.KindDateTime}},
		{Name: "ts", Type: sluice.Type{Kind: sluice.KindTimestamp, Scale: 6}},
		{Name: "yr", Type: T(sluice.KindYear)},
		{Name: "en", Type: sluice.Type{Kind: sluice.KindEnum, Members: []string{"small", "medium", "large"}}},
		{Name: "st", Type: sluice.Type{Kind: sluice.KindSet, Members: []string{"a", "b", "c"}}},
		{Name: "bit1", Type: sluice.Type{Kind: sluice.KindBit, Length: 1}},
		{Name: "bit13", Type: sluice.Type{Kind: sluice.KindBit, Length: 13}},
		{Name: "bit64", Type: sluice.Type{Kind: sluice.KindBit, Length: 64}},
		{Name: "js", Type: T(sluice.KindJSON)},
		{Name: "geo", Type: T(sluice.KindGeometry)},
		{Name: "uid", Type: T(sluice.KindUUID)},
	}
	for i := 1; i < len(cols); i++ {
		cols[i].Nullable = true
	}
	return mustTable(t, "all_kinds", cols, 0)
}

// wkbPoint is POINT(1 2) in little-endian WKB.
var wkbPoint = sluice.Geometry{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40}

func kindsRows() []sluice.Row {
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	long := strings.Repeat("long text ✓ ", 20000)
	maxRow := row(int64(1), true,
		int64(math.MaxInt8), int64(math.MaxInt16), int64(1<<23-1), int64(math.MaxInt32), int64(math.MaxInt64),
		uint64(math.MaxUint8), uint64(math.MaxUint16), uint64(1<<24-1), uint64(math.MaxUint32), uint64(math.MaxUint64),
		float32(math.MaxFloat32), math.MaxFloat64,
		sluice.Decimal("99999999999999999999999999999999999.999999999999999999999999999999"),
		sluice.Decimal("99999999.99"), sluice.Decimal("99999999999999999999"),
		"héllo wörld 🌍🚀 中文 'quote' \"dq\" \\ backslash", "abc", long,
		[]byte{0, 1, 2, 0xff, 0, 0, 0x80, 'x', 0, 0, 0, 0, 0, 0, 0, 0}, big,
		sluice.Date{Year: 9999, Month: 12, Day: 31},
		838*time.Hour+59*time.Minute+59*time.Second,
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC),
		time.Date(2038, 1, 19, 3, 14, 7, 999999000, time.UTC),
		int64(2155), "large", "a,b,c", uint64(1), uint64(1<<13-1), uint64(math.MaxUint64),
		sluice.JSON(`{"a":[1,2.5,"x",null],"b":{"c":true,"d":"ü🌍"},"e":-1e-7}`),
		wkbPoint, "123e4567-e89b-12d3-a456-426614174000",
	)
	minRow := row(int64(2), false,
		int64(math.MinInt8), int64(math.MinInt16), int64(-1<<23), int64(math.MinInt32), int64(math.MinInt64),
		uint64(0), uint64(0), uint64(0), uint64(0), uint64(0),
		float32(-1.5), -2.25e-300,
		sluice.Decimal("-0.000000000000000000000000000001"),
		sluice.Decimal("-0.01"), sluice.Decimal("-12345678901234567890"),
		"", "", "", []byte{}, []byte{},
		sluice.Date{Year: 1000, Month: 1, Day: 1},
		-(838*time.Hour + 59*time.Minute + 59*time.Second),
		time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC),
		int64(1901), "small", "", uint64(0), uint64(0), uint64(0),
		sluice.JSON(`[]`), sluice.Geometry{}, "00000000-0000-0000-0000-000000000000",
	)
	midRow := row(int64(3), true,
		int64(-1), int64(1), int64(-2), int64(3), int64(-4),
		uint64(1<<7), uint64(1<<15), uint64(1<<23), uint64(1<<31), uint64(1<<63),
		float32(0.1), 0.1,
		sluice.Decimal("0.000000000000000000000000000000"), sluice.Decimal("0.00"), sluice.Decimal("0"),
		"tab\tnewline\nnul-free", "0123456789", "x", []byte{0}, []byte("blob"),
		sluice.Date{Year: 2000, Month: 2, Day: 29},
		12*time.Hour+34*time.Minute+56*time.Second+123456*time.Microsecond,
		time.Date(2021, 6, 30, 23, 59, 59, 123456000, time.UTC),
		time.Date(2021, 6, 30, 23, 59, 59, 0, time.UTC),
		time.Date(2021, 6, 30, 23, 59, 59, 1000, time.UTC),
		int64(0), "medium", "b", uint64(0), uint64(0b1010101010101), uint64(1<<63),
		sluice.JSON(`"just a string"`), wkbPoint, "ffffffff-ffff-ffff-ffff-ffffffffffff",
	)
	nullRow := make(sluice.Row, len(maxRow))
	nullRow[0] = int64(4)
	return []sluice.Row{maxRow, minRow, midRow, nullRow}
}

// SPEC K1, S2 (values through the sink): every kind with edge values and
// NULL in every nullable column, loaded both as snapshot reads and inserts.
func testAllKinds(t *testing.T, h Harness) {
	tb := kindsTable(t)
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	rows := kindsRows()
	var changes []sluice.Change
	for i, r := range rows {
		if i%2 == 0 {
			changes = append(changes, read(tb, r))
		} else {
			changes = append(changes, ins(tb, r))
		}
	}
	write(t, s, "p1", changes...)
	expect(t, tg, tb, rows)

	// Updates through every kind: swap values of rows 1 and 2 (keys kept).
	a, b := rows[0], rows[1]
	a2 := append(sluice.Row{a[0]}, b[1:]...)
	b2 := append(sluice.Row{b[0]}, a[1:]...)
	write(t, s, "p2", upd(tb, a, a2), upd(tb, b, b2))
	expect(t, tg, tb, []sluice.Row{a2, b2, rows[2], rows[3]})
}

func testNulls(t *testing.T, h Harness) {
	tb := kindsTable(t)
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	rows := kindsRows()
	nulled := make(sluice.Row, len(rows[2]))
	nulled[0] = rows[2][0]
	write(t, s, "p1", ins(tb, rows[2]))
	write(t, s, "p2", upd(tb, rows[2], nulled))
	expect(t, tg, tb, []sluice.Row{nulled})
	write(t, s, "p3", upd(tb, nulled, rows[2]))
	expect(t, tg, tb, []sluice.Row{rows[2]})
}

func testUpdateDelete(t *testing.T, h Harness) {
	tb := simple(t, "upd_del")
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	r1, r2, r3 := row(int64(1), "one", int64(1)), row(int64(2), "two", nil), row(int64(3), "three", int64(3))
	write(t, s, "p1", ins(tb, r1), ins(tb, r2), ins(tb, r3))
	r2b := row(int64(2), "TWO", int64(22))
	write(t, s, "p2", upd(tb, r2, r2b), del(tb, r3))
	expect(t, tg, tb, []sluice.Row{r1, r2b})
	write(t, s, "p3", del(tb, r1), del(tb, r2b))
	expect(t, tg, tb, nil)
}

// SPEC K1: a primary-key change moves the row (delete + insert).
func testKeyChange(t *testing.T, h Harness) {
	tb := simple(t, "key_change")
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	r1, r2 := row(int64(1), "one", int64(1)), row(int64(2), "two", int64(2))
	write(t, s, "p1", ins(tb, r1), ins(tb, r2))
	r1m := row(int64(10), "one moved", int64(1))
	write(t, s, "p2", upd(tb, r1, r1m))
	expect(t, tg, tb, []sluice.Row{r1m, r2})
	// Swap keys within one batch via a temporary key, and a chain 2→3→4.
	a := row(int64(100), "two", int64(2))
	b := row(int64(3), "two", int64(2))
	c := row(int64(4), "two again", int64(2))
	write(t, s, "p3", upd(tb, r2, a), upd(tb, a, b), upd(tb, b, c))
	expect(t, tg, tb, []sluice.Row{r1m, c})
	// Move a row onto a key freed earlier in the same batch.
	d := row(int64(10), "four on ten", int64(4))
	write(t, s, "p4", del(tb, r1m), upd(tb, c, d))
	expect(t, tg, tb, []sluice.Row{d})
}

// Many changes to one key inside one batch: last wins, deletes respected.
func testInBatchDedup(t *testing.T, h Harness) {
	tb := simple(t, "dedup")
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	k := func(id int64, name string, n int64) sluice.Row { return row(id, name, n) }
	write(t, s, "p1",
		ins(tb, k(1, "a", 1)), upd(tb, k(1, "a", 1), k(1, "b", 2)), upd(tb, k(1, "b", 2), k(1, "c", 3)),
		ins(tb, k(2, "x", 1)), del(tb, k(2, "x", 1)),
		ins(tb, k(3, "y", 1)), del(tb, k(3, "y", 1)), ins(tb, k(3, "z", 9)),
		ins(tb, k(4, "w", 1)),
	)
	expect(t, tg, tb, []sluice.Row{k(1, "c", 3), k(3, "z", 9), k(4, "w", 1)})
	write(t, s, "p2",
		del(tb, k(4, "w", 1)), ins(tb, k(4, "w2", 2)), upd(tb, k(4, "w2", 2), k(4, "w3", 3)),
		del(tb, k(1, "c", 3)),
	)
	expect(t, tg, tb, []sluice.Row{k(3, "z", 9), k(4, "w3", 3)})
}

// Snapshot reads mixed with stream changes of the same keys; reads of keys
// already present behave as upserts (SPEC S5 handoff).
func testSnapshotThenStream(t *testing.T, h Harness) {
	tb := simple(t, "snap_stream")
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	var reads []sluice.Change
	var want []sluice.Row
	for i := int64(1); i <= 3000; i++ {
		r := row(i, "r", i)
		reads = append(reads, read(tb, r))
		want = append(want, r)
	}
	write(t, s, "p1", reads[:2000]...)
	// The chunk boundary overlaps: reads of 1500..3000 again, then stream.
	batch := append([]sluice.Change{}, reads[1499:]...)
	batch = append(batch, upd(tb, want[0], row(int64(1), "changed", int64(-1))), del(tb, want[1]), ins(tb, row(int64(5000), "new", nil)))
	write(t, s, "p2", batch...)
	want[0] = row(int64(1), "changed", int64(-1))
	want = append(want[:1], want[2:]...)
	want = append(want, row(int64(5000), "new", nil))
	expect(t, tg, tb, want)
}

// A large batch of snapshot reads in which keys repeat (a re-read chunk)
// ends with the last value of each key, also when a sink loads it in parts.
func testReadsRepeatKeys(t *testing.T, h Harness) {
	tb := simple(t, "reads_repeat")
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	var changes []sluice.Change
	want := map[int64]sluice.Row{}
	for i := int64(1); i <= 6000; i++ {
		r := row(i, "first", i)
		changes = append(changes, read(tb, r))
		want[i] = r
	}
	for i := int64(1); i <= 6000; i += 7 {
		r := row(i, "second", -i)
		changes = append(changes, read(tb, r))
		want[i] = r
	}
	write(t, s, "p1", changes...)
	var rows []sluice.Row
	for _, r := range want {
		rows = append(rows, r)
	}
	expect(t, tg, tb, rows)
}

// SPEC K1: replaying an already-applied batch changes nothing.
func testReplay(t *testing.T, h Harness) {
	tb := simple(t, "replay")
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	r1, r2, r3 := row(int64(1), "one", int64(1)), row(int64(2), "two", int64(2)), row(int64(3), "three", int64(3))
	snap := []sluice.Change{read(tb, r1), read(tb, r2), read(tb, r3)}
	write(t, s, "p1", snap...)
	write(t, s, "p1", snap...)
	r1b := row(int64(1), "uno", int64(11))
	stream := []sluice.Change{upd(tb, r1, r1b), del(tb, r2), ins(tb, row(int64(4), "four", nil))}
	write(t, s, "p2", stream...)
	want := []sluice.Row{r1b, r3, row(int64(4), "four", nil)}
	expect(t, tg, tb, want)
	// The sink contract: a batch (or any prefix of one) applied twice
	// leaves the target as applying it once.
	write(t, s, "p2", stream...)
	expect(t, tg, tb, want)
	write(t, s, "p3", stream[:2]...)
	write(t, s, "p3", stream...)
	expect(t, tg, tb, want)
}

func testManyTables(t *testing.T, h Harness) {
	tg := h.NewTarget(t)
	var tbs []*sluice.Table
	for i := range 5 {
		tbs = append(tbs, simple(t, "many_"+string(rune('a'+i))))
	}
	s := open(t, tg, tbs...)
	var changes []sluice.Change
	want := make([][]sluice.Row, len(tbs))
	for i := int64(0); i < 5000; i++ {
		ti := int(i % 5)
		r := row(i, strings.Repeat("x", int(i%50)), i*i)
		want[ti] = append(want[ti], r)
		changes = append(changes, read(tbs[ti], r))
	}
	write(t, s, "p1", changes...)
	for i, tb := range tbs {
		expect(t, tg, tb, want[i])
	}
}

// SPEC P2, K1: a new sink instance on the same target resumes from the
// position committed with the data.
func testRestart(t *testing.T, h Harness) {
	tb := simple(t, "restart")
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	c := asCheckpointer(t, s)
	if pos, err := c.LoadCheckpoint(ctx(t), "sinktest"); err != nil || pos != nil {
		t.Fatalf("LoadCheckpoint on a fresh target = %q, %v; want nil, nil", pos, err)
	}
	write(t, s, "pos-1", ins(tb, row(int64(1), "a", nil)))
	write(t, s, "", ins(tb, row(int64(2), "b", nil))) // inside a transaction: no position
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := tg.Open(t)
	t.Cleanup(func() { _ = s2.Close() })
	pos, err := asCheckpointer(t, s2).LoadCheckpoint(ctx(t), "sinktest")
	if err != nil || string(pos) != "pos-1" {
		t.Fatalf("LoadCheckpoint after restart = %q, %v; want pos-1", pos, err)
	}
	if pos, _ := asCheckpointer(t, s2).LoadCheckpoint(ctx(t), "other"); pos != nil {
		t.Fatalf("LoadCheckpoint(other) = %q, want nil", pos)
	}
	// The pipeline resumes after pos-1: the change without a position comes again.
	write(t, s2, "pos-2", ins(tb, row(int64(2), "b", nil)), ins(tb, row(int64(3), "c", nil)))
	expect(t, tg, tb, []sluice.Row{row(int64(1), "a", nil), row(int64(2), "b", nil), row(int64(3), "c", nil)})
	if pos, _ := asCheckpointer(t, s2).LoadCheckpoint(ctx(t), "sinktest"); string(pos) != "pos-2" {
		t.Fatalf("LoadCheckpoint = %q, want pos-2", pos)
	}
}

// A batch with no changes but a position still moves the checkpoint.
func testEmptyBatchCheckpoint(t *testing.T, h Harness) {
	tb := simple(t, "empty_batch")
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	write(t, s, "pos-1", ins(tb, row(int64(1), "a", nil)))
	write(t, s, "pos-2")
	if pos, err := asCheckpointer(t, s).LoadCheckpoint(ctx(t), "sinktest"); err != nil || string(pos) != "pos-2" {
		t.Fatalf("LoadCheckpoint = %q, %v; want pos-2", pos, err)
	}
}

func testTruncate(t *testing.T, h Harness) {
	tb := simple(t, "truncate")
	other := simple(t, "truncate_other")
	tg := h.NewTarget(t)
	s := open(t, tg, tb, other)
	write(t, s, "p1", ins(tb, row(int64(1), "a", nil)), ins(tb, row(int64(2), "b", nil)), ins(other, row(int64(1), "keep", nil)))
	// Changes before the truncate are gone, changes after it stay.
	write(t, s, "p2", ins(tb, row(int64(3), "c", nil)),
		sluice.Change{Op: sluice.OpTruncate, Table: tb, Time: time.Now()},
		ins(tb, row(int64(1), "after", int64(1))))
	expect(t, tg, tb, []sluice.Row{row(int64(1), "after", int64(1))})
	expect(t, tg, other, []sluice.Row{row(int64(1), "keep", nil)})
}

// SPEC K1: ADD COLUMN is applied; old rows read NULL in the new column.
func testAddColumn(t *testing.T, h Harness) {
	v1 := simple(t, "add_column")
	tg := h.NewTarget(t)
	s := open(t, tg, v1)
	write(t, s, "p1", ins(v1, row(int64(1), "a", int64(1))))
	cols := append(append([]sluice.Column{}, v1.Columns...),
		sluice.Column{Name: "extra", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 12, Scale: 3}, Nullable: true})
	v2 := mustTable(t, "add_column", cols, 0)
	write(t, s, "p2",
		ins(v1, row(int64(2), "b", int64(2))),
		sluice.Change{Op: sluice.OpSchema, Table: v2, OldTable: v1, DDL: "ALTER TABLE add_column ADD COLUMN extra DECIMAL(12,3)", Time: time.Now()},
		ins(v2, row(int64(3), "c", int64(3), sluice.Decimal("1.500"))),
		upd(v2, row(int64(1), "a", int64(1), nil), row(int64(1), "a", int64(1), sluice.Decimal("-2.000"))),
	)
	expect(t, tg, v2, []sluice.Row{
		row(int64(1), "a", int64(1), sluice.Decimal("-2.000")),
		row(int64(2), "b", int64(2), nil),
		row(int64(3), "c", int64(3), sluice.Decimal("1.500")),
	})
}

// Unchanged cells leave the target value as it is, also when changes to
// the same key are merged within a batch.
func testUnchanged(t *testing.T, h Harness) {
	tb := simple(t, "unchanged")
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	U := sluice.Unchanged
	write(t, s, "p1", ins(tb, row(int64(1), "big toast", int64(1))), ins(tb, row(int64(2), "two", int64(2))))
	write(t, s, "p2", upd(tb, row(int64(1), nil, int64(1)), row(int64(1), U, int64(10))),
		upd(tb, row(int64(2), "two", int64(2)), row(int64(2), "TWO", int64(20))))
	expect(t, tg, tb, []sluice.Row{row(int64(1), "big toast", int64(10)), row(int64(2), "TWO", int64(20))})
	// In one batch: an insert then an update with Unchanged merges into the insert.
	write(t, s, "p3", ins(tb, row(int64(3), "three", int64(3))), upd(tb, row(int64(3), nil, int64(3)), row(int64(3), U, int64(30))),
		upd(tb, row(int64(1), nil, int64(10)), row(int64(1), U, U)))
	expect(t, tg, tb, []sluice.Row{row(int64(1), "big toast", int64(10)), row(int64(2), "TWO", int64(20)), row(int64(3), "three", int64(30))})
}

func testZeroDate(t *testing.T, h Harness) {
	tb := mustTable(t, "zero_date", []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "d", Type: sluice.Type{Kind: sluice.KindDate}, Nullable: true},
	}, 0)
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	write(t, s, "p1", ins(tb, row(int64(1), sluice.Date{})), ins(tb, row(int64(2), sluice.Date{Year: 2020, Month: 1, Day: 2})))
	expect(t, tg, tb, []sluice.Row{row(int64(1), nil), row(int64(2), sluice.Date{Year: 2020, Month: 1, Day: 2})})
}

func asCheckpointer(t *testing.T, s sink.Sink) sink.Checkpointer {
	t.Helper()
	c, ok := s.(sink.Checkpointer)
	if !ok {
		t.Fatalf("the harness declares feature %q but %T does not implement sink.Checkpointer", Checkpoint, s)
	}
	return c
}

// Random valid change streams over a small key space (inserts, updates,
// key changes, deletes; several changes to one key per batch), checked
// against an in-memory model after every batch. Deterministic seed.
func testRandomChanges(t *testing.T, h Harness) {
	tb := simple(t, "random_changes")
	tg := h.NewTarget(t)
	s := open(t, tg, tb)
	rng := rand.New(rand.NewPCG(42, 7))
	model := map[int64]sluice.Row{}
	val := func(id int64) sluice.Row {
		var name, n any
		if rng.IntN(5) > 0 {
			name = strings.Repeat(string(rune('a'+rng.IntN(26))), 1+rng.IntN(10))
		}
		if rng.IntN(5) > 0 {
			n = rng.Int64N(1000) - 500
		}
		return row(id, name, n)
	}
	absent := func() (int64, bool) {
		for range 20 {
			if id := int64(rng.IntN(60)); model[id] == nil {
				return id, true
			}
		}
		return 0, false
	}
	present := func() (int64, bool) {
		if len(model) == 0 {
			return 0, false
		}
		ids := make([]int64, 0, len(model))
		for id := range model {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return ids[rng.IntN(len(ids))], true
	}
	for b := range 25 {
		var changes []sluice.Change
		for range 1 + rng.IntN(300) {
			switch op := rng.IntN(10); {
			case op < 4:
				if id, ok := absent(); ok {
					r := val(id)
					changes = append(changes, ins(tb, r))
					model[id] = r
				}
			case op < 7:
				if id, ok := present(); ok {
					r := val(id)
					changes = append(changes, upd(tb, model[id], r))
					model[id] = r
				}
			case op < 8:
				if id, ok := present(); ok {
					if nid, ok := absent(); ok {
						r := val(nid)
						changes = append(changes, upd(tb, model[id], r))
						delete(model, id)
						model[nid] = r
					}
				}
			default:
				if id, ok := present(); ok {
					changes = append(changes, del(tb, model[id]))
					delete(model, id)
				}
			}
		}
		write(t, s, "p"+strings.Repeat("x", b), changes...)
		var want []sluice.Row
		for _, r := range model {
			want = append(want, r)
		}
		expect(t, tg, tb, want)
		if t.Failed() {
			t.Fatalf("after batch %d", b)
		}
	}
}
