// Package sourcetest is the conformance suite every Source passes.
//
// A backend's test supplies a Harness (a fresh source over a fresh
// database, a way to run SQL there, and the values its types must produce)
// and calls Run:
//
//	func TestConformance(t *testing.T) {
//		sourcetest.Run(t, sourcetest.Harness{
//			Table:     func(name string) string { return "`" + db + "`.`" + name + "`" },
//			Exec:      func(t testing.TB, stmts ...string) { ... one transaction ... },
//			NewSource: func(t testing.TB, tables ...string) source.Source { ... },
//			Types:     []sourcetest.TypeCase{{SQLType: "BIGINT", Literal: "-1", Want: int64(-1)}},
//		})
//	}
//
// The suite checks, with the SPEC ids it proves:
//   - Tables resolves the selection with primary keys (S6).
//   - Snapshot: rows present before Run arrive as OpRead, each once; the
//     last change of the snapshot carries a Pos (S5).
//   - Ordering: transactions committed after the snapshot arrive in commit
//     order, rows inside a transaction in statement order (S1).
//   - Transaction ends: the last change of every transaction carries a Pos,
//     and no other row change does (S1).
//   - Updates and deletes carry the key in Before and the new row in After.
//   - Resume: a new source started from a saved Pos delivers exactly the
//     transactions after it, none lost, none repeated (S1, P2).
//   - A primary-key change is one OpUpdate with the old key in Before and
//     the new one in After; a 5,000-row transaction arrives whole, with a
//     single Pos on its last change (S1, N3).
//   - Values: each TypeCase's literal arrives as its Want value, identically
//     from the snapshot and from the stream (S2).
//   - Heartbeat: an idle source emits OpHeartbeat within HeartbeatWithin (P5).
package sourcetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/source"
)

// TypeCase is one value round trip: a column of SQLType holding Literal
// (an SQL expression) must arrive as Want (nil for NULL).
type TypeCase struct {
	SQLType string
	Literal string
	Want    any
}

// Harness adapts the suite to one backend.
type Harness struct {
	// Table returns the quoted, qualified SQL name of the suite's table
	// name (the suite creates tables with plain lower-case names).
	Table func(name string) string
	// Exec runs the statements in order, in one transaction, failing the
	// test on error.
	Exec func(t testing.TB, stmts ...string)
	// NewSource returns a fresh source capturing exactly the named tables
	// (suite names), configured to snapshot and then stream when started
	// without a position. It is called several times per test (restarts);
	// the suite closes what it returns.
	NewSource func(t testing.TB, tables ...string) source.Source
	// Types are the value round trips to check.
	Types []TypeCase
	// HeartbeatWithin is how long an idle source may stay silent
	// (default 5s).
	HeartbeatWithin time.Duration
	// Timeout bounds each wait (default 60s).
	Timeout time.Duration
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	if h.HeartbeatWithin == 0 {
		h.HeartbeatWithin = 5 * time.Second
	}
	if h.Timeout == 0 {
		h.Timeout = 60 * time.Second
	}
	t.Run("SnapshotThenStream", func(t *testing.T) { testSnapshotThenStream(t, h) })
	t.Run("Resume", func(t *testing.T) { testResume(t, h) })
	t.Run("KeyChangeAndLargeTransaction", func(t *testing.T) { testKeyChangeAndLarge(t, h) })
	t.Run("Values", func(t *testing.T) { testValues(t, h) })
	t.Run("Heartbeat", func(t *testing.T) { testHeartbeat(t, h) })
}

// Collector is a source.Emitter that records what it receives.
type Collector struct {
	mu       sync.Mutex
	changes  []sluice.Change
	progress []sluice.Progress
}

// Emit records c.
func (c *Collector) Emit(ch sluice.Change) error {
	c.mu.Lock()
	c.changes = append(c.changes, ch)
	c.mu.Unlock()
	return nil
}

// Progress records p.
func (c *Collector) Progress(p sluice.Progress) {
	c.mu.Lock()
	c.progress = append(c.progress, p)
	c.mu.Unlock()
}

// Changes returns a copy of what was emitted so far.
func (c *Collector) Changes() []sluice.Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sluice.Change(nil), c.changes...)
}

// WaitFor polls until cond holds on the changes so far or timeout passes.
func (c *Collector) WaitFor(t testing.TB, what string, timeout time.Duration, cond func([]sluice.Change) bool) []sluice.Change {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		cs := c.Changes()
		if cond(cs) {
			return cs
		}
		if time.Now().After(deadline) {
			t.Fatalf("sourcetest: timed out after %s waiting for %s (%d changes so far)", timeout, what, len(cs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type run struct {
	src    source.Source
	out    *Collector
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, h Harness, from sluice.Position, tables ...string) *run {
	t.Helper()
	src := h.NewSource(t, tables...)
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{src: src, out: &Collector{}, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, from, r.out) }()
	t.Cleanup(func() { r.stop(t); src.Close() })
	return r
}

func (r *run) stop(t *testing.T) {
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil && err != context.Canceled && !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("sourcetest: Run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("sourcetest: Run did not return after cancel")
	}
}

func kv(h Harness, t *testing.T, name string) {
	h.Exec(t, "CREATE TABLE "+h.Table(name)+" (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(100))")
}

func rowChanges(cs []sluice.Change) []sluice.Change {
	var out []sluice.Change
	for _, c := range cs {
		if c.Op.IsRow() {
			out = append(out, c)
		}
	}
	return out
}

func idOf(r sluice.Row) int64 {
	switch x := r[0].(type) {
	case int64:
		return x
	case uint64:
		return int64(x)
	}
	return -1
}

func testSnapshotThenStream(t *testing.T, h Harness) {
	kv(h, t, "st")
	tbl := h.Table("st")
	var pre []string
	for i := 1; i <= 50; i++ {
		pre = append(pre, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (%d, 'pre%d')", tbl, i, i))
	}
	h.Exec(t, pre...)

	src := h.NewSource(t, "st")
	tables, err := src.Tables(context.Background())
	src.Close()
	if err != nil {
		t.Fatalf("Tables: %v", err)
	}
	if len(tables) != 1 || tables[0].ID.Name != "st" || len(tables[0].Key) != 1 || tables[0].Columns[tables[0].Key[0]].Name != "id" {
		t.Fatalf("Tables = %v, want st with key id", tables)
	}

	r := start(t, h, nil, "st")
	cs := r.out.WaitFor(t, "50 snapshot rows", h.Timeout, func(cs []sluice.Change) bool {
		n := 0
		for _, c := range cs {
			if c.Op == sluice.OpRead {
				n++
			}
		}
		return n >= 50
	})
	seen := map[int64]bool{}
	var lastRead int
	for i, c := range cs {
		if c.Op == sluice.OpRead {
			id := idOf(c.After)
			if seen[id] {
				t.Errorf("snapshot row %d read twice", id)
			}
			seen[id] = true
			lastRead = i
			if c.Table == nil || c.Table.ID.Name != "st" {
				t.Errorf("snapshot row without its table")
			}
		}
	}
	if len(seen) != 50 {
		t.Errorf("snapshot read %d distinct rows, want 50", len(seen))
	}
	if cs[lastRead].Pos == nil {
		t.Errorf("the last snapshot row has no Pos")
	}

	// Transactions after the snapshot: 1, 2 and 3 statements.
	h.Exec(t, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (101, 'a')", tbl))
	h.Exec(t, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (102, 'b')", tbl),
		fmt.Sprintf("UPDATE %s SET v = 'b2' WHERE id = 102", tbl))
	h.Exec(t, fmt.Sprintf("DELETE FROM %s WHERE id = 1", tbl),
		fmt.Sprintf("UPDATE %s SET v = 'x' WHERE id = 2", tbl),
		fmt.Sprintf("INSERT INTO %s (id, v) VALUES (103, 'c')", tbl))
	cs = r.out.WaitFor(t, "6 streamed changes", h.Timeout, func(cs []sluice.Change) bool {
		n := 0
		for _, c := range cs {
			if c.Op.IsRow() && c.Op != sluice.OpRead {
				n++
			}
		}
		return n >= 6
	})
	var streamed []sluice.Change
	for _, c := range rowChanges(cs) {
		if c.Op != sluice.OpRead {
			streamed = append(streamed, c)
		}
	}
	type exp struct {
		op  sluice.Op
		id  int64
		v   any
		end bool
	}
	wants := []exp{
		{sluice.OpInsert, 101, "a", true},
		{sluice.OpInsert, 102, "b", false}, {sluice.OpUpdate, 102, "b2", true},
		{sluice.OpDelete, 1, nil, false}, {sluice.OpUpdate, 2, "x", false}, {sluice.OpInsert, 103, "c", true},
	}
	if len(streamed) != len(wants) {
		t.Fatalf("streamed %d row changes, want %d", len(streamed), len(wants))
	}
	for i, w := range wants {
		c := streamed[i]
		if c.Op != w.op {
			t.Fatalf("streamed change %d: %s, want %s (commit order)", i, c.Op, w.op)
		}
		var id int64
		if c.Op == sluice.OpDelete {
			id = idOf(c.Before)
			if c.After != nil {
				t.Errorf("delete with After")
			}
		} else {
			id = idOf(c.After)
			if c.After[1] != w.v {
				t.Errorf("change %d: v = %#v, want %#v", i, c.After[1], w.v)
			}
		}
		if c.Op == sluice.OpUpdate && (c.Before == nil || idOf(c.Before) != id) {
			t.Errorf("update %d: Before lacks the key", i)
		}
		if id != w.id {
			t.Errorf("change %d: id %d, want %d", i, id, w.id)
		}
		if (c.Pos != nil) != w.end {
			t.Errorf("change %d (%s id %d): Pos set = %v, want %v (only transaction ends carry Pos)", i, c.Op, id, c.Pos != nil, w.end)
		}
		if c.Time.IsZero() {
			t.Errorf("change %d: no commit time", i)
		}
	}
	if err := r.src.Ack(context.Background(), streamed[len(streamed)-1].Pos); err != nil {
		t.Errorf("Ack: %v", err)
	}
}

func testResume(t *testing.T, h Harness) {
	kv(h, t, "rs")
	tbl := h.Table("rs")
	r := start(t, h, nil, "rs")
	txn := func(k int) {
		h.Exec(t, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (%d, 'a')", tbl, 2*k),
			fmt.Sprintf("INSERT INTO %s (id, v) VALUES (%d, 'b')", tbl, 2*k+1))
	}
	r.out.WaitFor(t, "a position after the (empty) snapshot", h.Timeout, func(cs []sluice.Change) bool {
		for _, c := range cs {
			if c.Pos != nil {
				return true
			}
		}
		return false
	})
	for k := 1; k <= 5; k++ {
		txn(k)
	}
	cs := r.out.WaitFor(t, "5 transactions", h.Timeout, func(cs []sluice.Change) bool { return len(rowChanges(cs)) >= 10 })
	r.stop(t)
	// the Pos of transaction 3
	var pos sluice.Position
	for _, c := range rowChanges(cs) {
		if c.Pos != nil && idOf(c.After) == 7 {
			pos = c.Pos
		}
	}
	if pos == nil {
		t.Fatal("transaction 3 has no Pos on its last change")
	}
	for k := 6; k <= 7; k++ {
		txn(k)
	}
	r2 := start(t, h, pos, "rs")
	r2.out.WaitFor(t, "transactions 4..7 after resuming", h.Timeout, func(cs []sluice.Change) bool { return len(rowChanges(cs)) >= 8 })
	time.Sleep(200 * time.Millisecond)
	rows := rowChanges(r2.out.Changes())
	var ids []int64
	for _, c := range rows {
		ids = append(ids, idOf(c.After))
	}
	want := []int64{8, 9, 10, 11, 12, 13, 14, 15}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("after resuming from the end of transaction 3: ids %v, want %v (no loss, no repeat)", ids, want)
	}
}

func testKeyChangeAndLarge(t *testing.T, h Harness) {
	kv(h, t, "kc")
	tbl := h.Table("kc")
	h.Exec(t, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (1, 'one')", tbl))
	r := start(t, h, nil, "kc")
	r.out.WaitFor(t, "the snapshot row", h.Timeout, func(cs []sluice.Change) bool { return len(rowChanges(cs)) == 1 })
	h.Exec(t, fmt.Sprintf("UPDATE %s SET id = 2 WHERE id = 1", tbl))
	const n = 5000
	var stmts []string
	for i := 0; i < n; i += 500 {
		var vals []string
		for j := i; j < i+500; j++ {
			vals = append(vals, fmt.Sprintf("(%d, 'r%d')", 1000+j, j))
		}
		stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (id, v) VALUES %s", tbl, strings.Join(vals, ", ")))
	}
	h.Exec(t, stmts...)
	cs := r.out.WaitFor(t, "the key change and the large transaction", h.Timeout, func(cs []sluice.Change) bool { return len(rowChanges(cs)) >= n+2 })
	rows := rowChanges(cs)
	u := rows[1]
	if u.Op != sluice.OpUpdate || u.Before == nil || idOf(u.Before) != 1 || idOf(u.After) != 2 {
		t.Fatalf("key change: got %s before=%v after=%v, want an update from id 1 to id 2", u.Op, u.Before, u.After)
	}
	big := rows[2:]
	if len(big) != n {
		t.Fatalf("large transaction: %d rows, want %d", len(big), n)
	}
	for i, c := range big {
		if c.Op != sluice.OpInsert || idOf(c.After) != int64(1000+i) {
			t.Fatalf("large transaction row %d: %s id %d, want insert id %d", i, c.Op, idOf(c.After), 1000+i)
		}
		if (c.Pos != nil) != (i == n-1) {
			t.Fatalf("large transaction row %d: Pos set = %v (only the last change may carry it)", i, c.Pos != nil)
		}
	}
}

func testValues(t *testing.T, h Harness) {
	if len(h.Types) == 0 {
		t.Fatal("sourcetest: Harness.Types is empty: give at least one value per column type")
	}
	var defs, names, lits []string
	for i, tc := range h.Types {
		defs = append(defs, fmt.Sprintf("c%d %s", i, tc.SQLType))
		names = append(names, fmt.Sprintf("c%d", i))
		lits = append(lits, tc.Literal)
	}
	h.Exec(t, "CREATE TABLE "+h.Table("vals")+" (id INTEGER NOT NULL PRIMARY KEY, "+strings.Join(defs, ", ")+")")
	ins := func(id int) string {
		return fmt.Sprintf("INSERT INTO %s (id, %s) VALUES (%d, %s)", h.Table("vals"), strings.Join(names, ", "), id, strings.Join(lits, ", "))
	}
	h.Exec(t, ins(1))
	r := start(t, h, nil, "vals")
	r.out.WaitFor(t, "the snapshot row", h.Timeout, func(cs []sluice.Change) bool {
		for _, c := range cs {
			if c.Op == sluice.OpRead {
				return true
			}
		}
		return false
	})
	h.Exec(t, ins(2))
	cs := r.out.WaitFor(t, "the streamed row", h.Timeout, func(cs []sluice.Change) bool {
		for _, c := range cs {
			if c.Op == sluice.OpInsert {
				return true
			}
		}
		return false
	})
	for _, c := range cs {
		if c.Op != sluice.OpRead && c.Op != sluice.OpInsert {
			continue
		}
		for i, tc := range h.Types {
			got := c.After[i+1]
			if !sluice.Equal(got, tc.Want) {
				t.Errorf("%s: %s %s: got %#v (%T), want %#v (%T)", c.Op, tc.SQLType, tc.Literal, got, got, tc.Want, tc.Want)
			}
		}
	}
}

func testHeartbeat(t *testing.T, h Harness) {
	kv(h, t, "hb")
	r := start(t, h, nil, "hb")
	r.out.WaitFor(t, "streaming", h.Timeout, func(cs []sluice.Change) bool { return len(cs) > 0 })
	n0 := len(r.out.Changes())
	cs := r.out.WaitFor(t, "a heartbeat on an idle source", h.HeartbeatWithin+h.Timeout/4, func(cs []sluice.Change) bool {
		for _, c := range cs[n0:] {
			if c.Op == sluice.OpHeartbeat {
				return true
			}
		}
		return false
	})
	for _, c := range cs[n0:] {
		if c.Op == sluice.OpHeartbeat && (c.Time.IsZero() || time.Since(c.Time) > time.Minute) {
			t.Errorf("heartbeat Time %s is not current", c.Time)
		}
	}
}
