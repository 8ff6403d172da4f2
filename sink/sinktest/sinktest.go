// Package sinktest is the conformance suite every sink.Sink passes.
//
// A backend's test calls Run with a Harness that makes fresh, empty targets
// and reads a target's "materialized state" back as neutral rows: for a
// database that is the table's rows; for a log such as Kafka it is the
// latest value per key (deletes removing the key). The suite writes
// batches through the sink.Sink contract and compares that state with what
// it wrote, value by value and kind-aware (JSON semantically, times as
// instants).
//
// Backends that cannot do something declare it: Harness.Features lists the
// optional behaviours the backend supports, and the suite runs a case only
// when its features are all listed, logging every case it leaves out so the
// gap is visible in the test output rather than hidden behind a skip.
package sinktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
)

// Feature is an optional behaviour a backend supports.
type Feature string

// The optional features.
const (
	// Checkpoint: the sink implements sink.Checkpointer; a new sink on the
	// same target returns the last committed Batch.Position.
	Checkpoint Feature = "checkpoint"
	// Truncate: sluice.OpTruncate empties the table in the materialized state.
	Truncate Feature = "truncate"
	// AddColumn: an OpSchema change adding a column is applied and later rows
	// carry the new column.
	AddColumn Feature = "add-column"
	// Unchanged: sluice.Unchanged leaves the target value as it was.
	Unchanged Feature = "unchanged"
	// ZeroDateNull: a zero sluice.Date reads back as NULL.
	ZeroDateNull Feature = "zero-date-null"
)

// Target is one fresh target (a database, a topic namespace).
type Target interface {
	// Open returns a new sink writing to this target. Called again, it
	// returns another instance on the same target (a restart).
	Open(t *testing.T) sink.Sink
	// Read returns the target's materialized rows of table, converted back
	// to neutral values aligned with table.Columns, in any order.
	Read(t *testing.T, table *sluice.Table) []sluice.Row
}

// Harness adapts a backend to the suite.
type Harness struct {
	// NewTarget returns a fresh, empty target; cleanup is the harness's job
	// (t.Cleanup).
	NewTarget func(t *testing.T) Target
	// Features lists what the backend supports beyond the core contract.
	Features []Feature
	// Only, when set, runs just the named cases (for running a subset under
	// another configuration of the backend, e.g. a stricter conflict policy
	// that replay cases would trip).
	Only []string
}

func (h Harness) has(f ...Feature) bool {
	for _, x := range f {
		if !slices.Contains(h.Features, x) {
			return false
		}
	}
	return true
}

type testCase struct {
	name  string
	needs []Feature
	run   func(t *testing.T, h Harness)
}

var cases = []testCase{
	{"AllKinds", nil, testAllKinds},
	{"Nulls", nil, testNulls},
	{"UpdateDelete", nil, testUpdateDelete},
	{"KeyChange", nil, testKeyChange},
	{"InBatchDedup", nil, testInBatchDedup},
	{"SnapshotThenStream", nil, testSnapshotThenStream},
	{"ReadsRepeatKeys", nil, testReadsRepeatKeys},
	{"ReplayIsIdempotent", nil, testReplay},
	{"ManyTables", nil, testManyTables},
	{"RandomChanges", nil, testRandomChanges},
	{"Restart", []Feature{Checkpoint}, testRestart},
	{"EmptyBatchCheckpoint", []Feature{Checkpoint}, testEmptyBatchCheckpoint},
	{"Truncate", []Feature{Truncate}, testTruncate},
	{"AddColumn", []Feature{AddColumn}, testAddColumn},
	{"Unchanged", []Feature{Unchanged}, testUnchanged},
	{"ZeroDate", []Feature{ZeroDateNull}, testZeroDate},
}

// Run runs every case whose features the harness lists; it logs the others.
func Run(t *testing.T, h Harness) {
	for _, c := range cases {
		if len(h.Only) > 0 && !slices.Contains(h.Only, c.name) {
			continue
		}
		if !h.has(c.needs...) {
			t.Logf("sinktest: case %s not run: the harness does not declare features %v", c.name, c.needs)
			continue
		}
		t.Run(c.name, func(t *testing.T) { c.run(t, h) })
	}
}

// ---- helpers ----

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// open returns a sink and syncs tables when it is a SchemaSyncer.
func open(t *testing.T, tg Target, tables ...*sluice.Table) sink.Sink {
	t.Helper()
	s := tg.Open(t)
	t.Cleanup(func() { _ = s.Close() })
	if ss, ok := s.(sink.SchemaSyncer); ok {
		if err := ss.SyncSchema(ctx(t), tables); err != nil {
			t.Fatalf("SyncSchema: %v", err)
		}
	}
	return s
}

func write(t *testing.T, s sink.Sink, pos string, changes ...sluice.Change) {
	t.Helper()
	b := &sink.Batch{Changes: changes, Checkpoint: "sinktest"}
	if pos != "" {
		b.Position = sluice.Position(pos)
	}
	if err := s.Write(ctx(t), b); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func ins(t *sluice.Table, r sluice.Row) sluice.Change {
	return sluice.Change{Op: sluice.OpInsert, Table: t, After: r, Time: time.Now()}
}
func read(t *sluice.Table, r sluice.Row) sluice.Change {
	return sluice.Change{Op: sluice.OpRead, Table: t, After: r, Time: time.Now()}
}
func upd(t *sluice.Table, before, after sluice.Row) sluice.Change {
	return sluice.Change{Op: sluice.OpUpdate, Table: t, Before: before, After: after, Time: time.Now()}
}
func del(t *sluice.Table, r sluice.Row) sluice.Change {
	return sluice.Change{Op: sluice.OpDelete, Table: t, Before: r, Time: time.Now()}
}

func mustTable(t *testing.T, name string, cols []sluice.Column, key ...int) *sluice.Table {
	t.Helper()
	tb, err := sluice.NewTable(sluice.TableID{Schema: "sinktest", Name: name}, cols, key)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// simple is (id int64 key, name string(64), n int32 nullable).
func simple(t *testing.T, name string) *sluice.Table {
	return mustTable(t, name, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "name", Type: sluice.Type{Kind: sluice.KindString, Length: 64}, Nullable: true},
		{Name: "n", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}, Nullable: true},
	}, 0)
}

func row(vals ...any) sluice.Row { return sluice.Row(vals) }

// expect compares the target's state of table with want (any order).
func expect(t *testing.T, tg Target, table *sluice.Table, want []sluice.Row) {
	t.Helper()
	got := tg.Read(t, table)
	sortRows(table, got)
	want = slices.Clone(want)
	sortRows(table, want)
	if len(got) != len(want) {
		t.Fatalf("table %s: got %d rows, want %d\ngot:  %s\nwant: %s", table.ID, len(got), len(want), fmtRows(got), fmtRows(want))
	}
	for i := range want {
		for j, c := range table.Columns {
			if !Equal(c.Type, got[i][j], want[i][j]) {
				t.Errorf("table %s row %d (key %v) column %q (%s): got %s, want %s",
					table.ID, i, want[i].Key(table, nil), c.Name, c.Type, show(got[i][j]), show(want[i][j]))
			}
		}
	}
}

func show(v any) string {
	s := fmt.Sprintf("%T(%v)", v, v)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func fmtRows(rs []sluice.Row) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(show([]any(r)))
		b.WriteString("; ")
	}
	return b.String()
}

func sortRows(table *sluice.Table, rs []sluice.Row) {
	slices.SortFunc(rs, func(a, b sluice.Row) int {
		return strings.Compare(fmt.Sprint(a.Key(table, nil)...), fmt.Sprint(b.Key(table, nil)...))
	})
}

// Equal compares two neutral values of type typ: times as instants, JSON
// semantically, byte slices by content, the rest exactly.
func Equal(typ sluice.Type, a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch typ.Kind {
	case sluice.KindJSON:
		x, ok1 := a.(sluice.JSON)
		y, ok2 := b.(sluice.JSON)
		if !ok1 || !ok2 {
			return false
		}
		var u, v any
		if json.Unmarshal(x, &u) != nil || json.Unmarshal(y, &v) != nil {
			return bytes.Equal(x, y)
		}
		return reflect.DeepEqual(u, v)
	case sluice.KindDateTime, sluice.KindTimestamp:
		x, ok1 := a.(time.Time)
		y, ok2 := b.(time.Time)
		return ok1 && ok2 && x.Equal(y)
	}
	return sluice.Equal(a, b)
}
