package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/postgres"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func bg(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func simpleTable(t *testing.T, schema, name string) *sluice.Table {
	t.Helper()
	tb, err := sluice.NewTable(sluice.TableID{Schema: schema, Name: name}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "name", Type: sluice.Type{Kind: sluice.KindString, Length: 8}, Nullable: true},
		{Name: "n", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}, Nullable: true},
	}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func r(v ...any) sluice.Row { return sluice.Row(v) }

func ch(op sluice.Op, tb *sluice.Table, before, after sluice.Row) sluice.Change {
	return sluice.Change{Op: op, Table: tb, Before: before, After: after, Time: time.Now()}
}

func batch(pos string, changes ...sluice.Change) *sink.Batch {
	b := &sink.Batch{Changes: changes, Checkpoint: "test"}
	if pos != "" {
		b.Position = sluice.Position(pos)
	}
	return b
}

// setup returns a target, a synced sink on it, and a pool on its database.
func setup(t *testing.T, cfg postgres.Config, tables ...*sluice.Table) (*pgTarget, *postgres.Sink, *pgxpool.Pool) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	tg := newTarget(t, cfg)
	s := tg.open(t)
	if len(tables) > 0 {
		if err := s.SyncSchema(bg(t), tables); err != nil {
			t.Fatal(err)
		}
	}
	pool, err := pgxpool.New(bg(t), tg.conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return tg, s, pool
}

func mustWrite(t *testing.T, s *postgres.Sink, b *sink.Batch) {
	t.Helper()
	if err := s.Write(bg(t), b); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func rowsOf(t *testing.T, s *postgres.Sink, tb *sluice.Table) string {
	t.Helper()
	rows, err := s.ReadTable(bg(t), tb)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(rows)
}

func checkpointOf(t *testing.T, s *postgres.Sink) string {
	t.Helper()
	pos, err := s.LoadCheckpoint(bg(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	return string(pos)
}

// SPEC K1, P7: conflict policies for a duplicate insert, an update of a
// missing row and a delete of a missing row.
func TestConflictPolicies(t *testing.T) {
	tb := simpleTable(t, "s", "conflicts")
	seed := func(t *testing.T, c postgres.Conflict) *postgres.Sink {
		_, s, _ := setup(t, postgres.Config{Conflict: c}, tb)
		mustWrite(t, s, batch("p0", ch(sluice.OpInsert, tb, nil, r(int64(1), "one", int64(1))), ch(sluice.OpInsert, tb, nil, r(int64(2), "two", int64(2)))))
		return s
	}
	dupInsert := ch(sluice.OpInsert, tb, nil, r(int64(1), "uno", int64(11)))
	updMissing := ch(sluice.OpUpdate, tb, r(int64(9), "nine", nil), r(int64(9), "NINE", int64(9)))
	delMissing := ch(sluice.OpDelete, tb, r(int64(8), "eight", nil), nil)
	fine := ch(sluice.OpInsert, tb, nil, r(int64(3), "three", int64(3)))

	t.Run("fail", func(t *testing.T) {
		s := seed(t, postgres.ConflictFail)
		for _, c := range []struct {
			change sluice.Change
			want   string
		}{
			{dupInsert, "insert of a key that already exists, key (id=1)"},
			{updMissing, "update of a row that does not exist, key (id=9)"},
			{delMissing, "delete of a row that does not exist, key (id=8)"},
		} {
			err := s.Write(bg(t), batch("p1", fine, c.change))
			if !errors.Is(err, postgres.ErrConflict) || !sluice.IsPermanent(err) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "s.conflicts") {
				t.Fatalf("Write = %v; want a permanent ErrConflict naming the table and %q", err, c.want)
			}
		}
		// Nothing of the failed batches was applied, the checkpoint stayed.
		if got, want := rowsOf(t, s, tb), "[[1 one 1] [2 two 2]]"; got != want {
			t.Fatalf("rows = %s, want %s", got, want)
		}
		if got := checkpointOf(t, s); got != "p0" {
			t.Fatalf("checkpoint = %q, want p0", got)
		}
		// Snapshot reads are upserts under every policy; a change that does
		// fit applies normally (update of an existing row, delete, insert new).
		mustWrite(t, s, batch("p2", ch(sluice.OpRead, tb, nil, r(int64(1), "read", nil)),
			ch(sluice.OpUpdate, tb, r(int64(2), "two", int64(2)), r(int64(2), "deux", int64(2))), fine,
			ch(sluice.OpDelete, tb, r(int64(3), "three", int64(3)), nil)))
		if got, want := rowsOf(t, s, tb), "[[1 read <nil>] [2 deux 2]]"; got != want {
			t.Fatalf("rows = %s, want %s", got, want)
		}
	})
	t.Run("ignore", func(t *testing.T) {
		s := seed(t, postgres.ConflictIgnore)
		mustWrite(t, s, batch("p1", dupInsert, updMissing, delMissing, fine))
		if got, want := rowsOf(t, s, tb), "[[1 one 1] [2 two 2] [3 three 3]]"; got != want {
			t.Fatalf("rows = %s, want %s", got, want)
		}
	})
	t.Run("overwrite", func(t *testing.T) {
		s := seed(t, postgres.ConflictOverwrite)
		mustWrite(t, s, batch("p1", dupInsert, updMissing, delMissing, fine))
		if got, want := rowsOf(t, s, tb), "[[1 uno 11] [2 two 2] [3 three 3] [9 NINE 9]]"; got != want {
			t.Fatalf("rows = %s, want %s", got, want)
		}
	})
}

// SPEC K1, P4: existing-table modes fail (precheck lists the table),
// ignore (append) and truncate.
func TestExistingTableModes(t *testing.T) {
	tb := simpleTable(t, "shop", "orders")
	pre := func(t *testing.T, mode postgres.ExistingTable) (*postgres.Sink, *pgxpool.Pool) {
		_, s, pool := setup(t, postgres.Config{ExistingTable: mode})
		if _, err := pool.Exec(bg(t), `CREATE SCHEMA shop; CREATE TABLE shop.orders (id bigint PRIMARY KEY, name text, n int);
			INSERT INTO shop.orders VALUES (7, 'old', 7)`); err != nil {
			t.Fatal(err)
		}
		return s, pool
	}
	find := func(checks []sluice.Check, item string) sluice.Check {
		for _, c := range checks {
			if strings.Contains(c.Item, item) {
				return c
			}
		}
		t.Fatalf("no precheck item %q in %v", item, checks)
		return sluice.Check{}
	}
	t.Run("fail", func(t *testing.T) {
		s, _ := pre(t, postgres.ExistingFail)
		c := find(s.Precheck(bg(t), []*sluice.Table{tb}), `table "shop"."orders"`)
		if c.Status != sluice.StatusFail || c.Remedy == "" {
			t.Fatalf("precheck item = %v, want fail with a remedy", c)
		}
		err := s.SyncSchema(bg(t), []*sluice.Table{tb})
		if !errors.Is(err, postgres.ErrExistingTable) || !strings.Contains(err.Error(), `"shop"."orders"`) {
			t.Fatalf("SyncSchema = %v, want ErrExistingTable naming the table", err)
		}
	})
	t.Run("ignore", func(t *testing.T) {
		s, _ := pre(t, postgres.ExistingIgnore)
		if c := find(s.Precheck(bg(t), []*sluice.Table{tb}), `table "shop"."orders"`); c.Status != sluice.StatusOK {
			t.Fatalf("precheck item = %v, want ok", c)
		}
		if err := s.SyncSchema(bg(t), []*sluice.Table{tb}); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, s, batch("p1", ch(sluice.OpRead, tb, nil, r(int64(1), "new", nil))))
		if got, want := rowsOf(t, s, tb), "[[1 new <nil>] [7 old 7]]"; got != want {
			t.Fatalf("rows = %s, want %s", got, want)
		}
	})
	t.Run("ignore-incompatible", func(t *testing.T) {
		_, s, pool := setup(t, postgres.Config{ExistingTable: postgres.ExistingIgnore})
		if _, err := pool.Exec(bg(t), `CREATE SCHEMA shop; CREATE TABLE shop.orders (id bigint, name text)`); err != nil {
			t.Fatal(err)
		}
		c := find(s.Precheck(bg(t), []*sluice.Table{tb}), `table "shop"."orders"`)
		if c.Status != sluice.StatusFail || !strings.Contains(c.Cause, `"n"`) {
			t.Fatalf("precheck item = %v, want fail naming the missing column", c)
		}
		if _, err := pool.Exec(bg(t), `ALTER TABLE shop.orders ADD COLUMN n int`); err != nil {
			t.Fatal(err)
		}
		c = find(s.Precheck(bg(t), []*sluice.Table{tb}), `table "shop"."orders"`)
		if c.Status != sluice.StatusFail || !strings.Contains(c.Cause, "unique index") {
			t.Fatalf("precheck item = %v, want fail for the missing unique key", c)
		}
	})
	t.Run("truncate", func(t *testing.T) {
		s, _ := pre(t, postgres.ExistingTruncate)
		if c := find(s.Precheck(bg(t), []*sluice.Table{tb}), `table "shop"."orders"`); c.Status != sluice.StatusWarn {
			t.Fatalf("precheck item = %v, want warn", c)
		}
		if err := s.SyncSchema(bg(t), []*sluice.Table{tb}); err != nil {
			t.Fatal(err)
		}
		if got := rowsOf(t, s, tb); got != "[]" {
			t.Fatalf("rows = %s, want none", got)
		}
	})
	t.Run("own-table-is-not-a-conflict", func(t *testing.T) {
		tg, s, _ := setup(t, postgres.Config{}, tb)
		mustWrite(t, s, batch("", ch(sluice.OpRead, tb, nil, r(int64(1), "x", nil))))
		s2 := tg.open(t) // a restart before the first checkpoint syncs again
		if c := find(s2.Precheck(bg(t), []*sluice.Table{tb}), `table "shop"."orders"`); c.Status != sluice.StatusOK {
			t.Fatalf("precheck item = %v, want ok", c)
		}
		if err := s2.SyncSchema(bg(t), []*sluice.Table{tb}); err != nil {
			t.Fatal(err)
		}
	})
}

// SPEC N2: identifiers with spaces, quotes, backticks, mixed case, reserved
// words and non-ASCII letters replicate correctly.
func TestQuotedIdentifiers(t *testing.T) {
	odd := func(s string) sluice.Column {
		return sluice.Column{Name: s, Type: sluice.Type{Kind: sluice.KindString, Length: 20}, Nullable: true}
	}
	cols := []sluice.Column{
		{Name: "select", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}},
		{Name: "Mixed Case", Type: sluice.Type{Kind: sluice.KindString, Length: 20}},
		odd(`has "quotes"`), odd("back`tick`"), odd("ключ"), odd("sp ace; DROP TABLE x; --"), odd("ORDER"), odd("it's"),
	}
	tb, err := sluice.NewTable(sluice.TableID{Schema: `My "Schema"`, Name: "tab le `t` \"q\" Ünïcødé"}, cols, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	_, s, _ := setup(t, postgres.Config{Conflict: postgres.ConflictFail, CheckpointSchema: `Odd "cp" schema`, CheckpointTable: "Check`Points"}, tb)
	a := r(keyInt(1), "Kéy A", "q\"v", "b`v", "кириллица", "x", "y", "z")
	b := r(keyInt(2), "Key B", nil, nil, nil, nil, nil, nil)
	mustWrite(t, s, batch("p1", ch(sluice.OpRead, tb, nil, a), ch(sluice.OpInsert, tb, nil, b)))
	a2 := r(keyInt(3), "Kéy A", "moved", "b`v", "кириллица", "x", "y", "z")
	mustWrite(t, s, batch("p2", ch(sluice.OpUpdate, tb, a, a2), ch(sluice.OpDelete, tb, b, nil)))
	// ADD COLUMN with an odd name, then a row using it.
	cols2 := append(append([]sluice.Column{}, cols...), odd(`new "col" ü`))
	tb2, err := sluice.NewTable(tb.ID, cols2, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	c := append(append(sluice.Row{}, a2...), "added")
	mustWrite(t, s, batch("p3", sluice.Change{Op: sluice.OpSchema, Table: tb2, OldTable: tb},
		ch(sluice.OpUpdate, tb2, append(append(sluice.Row{}, a2...), nil), c),
		sluice.Change{Op: sluice.OpTruncate, Table: tb2}, ch(sluice.OpInsert, tb2, nil, c)))
	if got, want := rowsOf(t, s, tb2), fmt.Sprint([]sluice.Row{c}); got != want {
		t.Fatalf("rows = %s, want %s", got, want)
	}
	if got := checkpointOf(t, s); got != "p3" {
		t.Fatalf("checkpoint = %q", got)
	}
}

// keyInt is an int64 key value (the column is INT, the representation int64).
func keyInt(i int64) int64 { return i }

// SPEC K1: session_replication_role = replica skips triggers and FK checks.
func TestReplicaRole(t *testing.T) {
	parent := simpleTable(t, "rr", "parent")
	child := simpleTable(t, "rr", "child")
	for _, replica := range []bool{true, false} {
		t.Run(fmt.Sprint("replica=", replica), func(t *testing.T) {
			_, s, pool := setup(t, postgres.Config{ReplicaRole: replica}, parent, child)
			if _, err := pool.Exec(bg(t), `ALTER TABLE rr.child ADD FOREIGN KEY (n) REFERENCES rr.parent (id);
				CREATE FUNCTION rr.boom() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'trigger fired'; END$$;
				CREATE TRIGGER boom BEFORE INSERT ON rr.parent FOR EACH ROW EXECUTE FUNCTION rr.boom()`); err != nil {
				t.Fatal(err)
			}
			err := s.Write(bg(t), batch("p1", ch(sluice.OpInsert, child, nil, r(int64(1), "orphan", int64(42))),
				ch(sluice.OpInsert, parent, nil, r(int64(5), "p", nil))))
			if replica && err != nil {
				t.Fatalf("Write with ReplicaRole = %v, want nil (no FK check, no trigger)", err)
			}
			if !replica && err == nil {
				t.Fatal("Write without ReplicaRole succeeded; want the FK or trigger to refuse it")
			}
		})
	}
}

// SPEC P2: a Write that fails mid-way leaves neither data nor checkpoint.
func TestCheckpointAtomicity(t *testing.T) {
	tb := simpleTable(t, "s", "atomic")
	other := simpleTable(t, "s", "atomic_other")
	_, s, _ := setup(t, postgres.Config{}, tb, other)
	mustWrite(t, s, batch("p1", ch(sluice.OpInsert, tb, nil, r(int64(1), "one", nil))))
	for name, bad := range map[string]sluice.Change{
		"server rejects value": ch(sluice.OpInsert, tb, nil, r(int64(3), "far too long for varchar(8)", nil)),
		"encoder rejects type": ch(sluice.OpInsert, tb, nil, r(int64(3), 42, nil)),
		"copy path rejects":    ch(sluice.OpRead, other, nil, r(int64(3), "far too long for varchar(8)", nil)),
	} {
		err := s.Write(bg(t), batch("p2",
			ch(sluice.OpRead, other, nil, r(int64(1), "o", nil)),
			ch(sluice.OpUpdate, tb, r(int64(1), "one", nil), r(int64(1), "uno", nil)),
			ch(sluice.OpInsert, tb, nil, r(int64(2), "two", nil)),
			sluice.Change{Op: sluice.OpTruncate, Table: other},
			bad))
		if err == nil || !sluice.IsPermanent(err) {
			t.Fatalf("%s: Write = %v, want a permanent error", name, err)
		}
		if got := rowsOf(t, s, tb) + rowsOf(t, s, other); got != "[[1 one <nil>]][]" {
			t.Fatalf("%s: rows after failed Write = %s, want the state before it", name, got)
		}
		if got := checkpointOf(t, s); got != "p1" {
			t.Fatalf("%s: checkpoint = %q, want p1", name, got)
		}
	}
	// The same sink keeps working after failures.
	mustWrite(t, s, batch("p3", ch(sluice.OpInsert, tb, nil, r(int64(2), "two", nil))))
	if got := checkpointOf(t, s); got != "p3" {
		t.Fatalf("checkpoint = %q, want p3", got)
	}
}

// SPEC P6: PostgreSQL restarted mid-stream: Write fails (retryable) while it
// is down and succeeds once it is back, on the same sink.
func TestPostgresRestart(t *testing.T) {
	srv := testenv.NewPostgres(t, testenv.PostgresOptions{})
	pg := srv.Postgres()
	tb := simpleTable(t, "s", "restart")
	s, err := postgres.New(bg(t), postgres.Config{ConnString: pg.ConnString(""), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SyncSchema(bg(t), []*sluice.Table{tb}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s, batch("p1", ch(sluice.OpInsert, tb, nil, r(int64(1), "a", nil))))
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	b2 := batch("p2", ch(sluice.OpInsert, tb, nil, r(int64(2), "b", nil)), ch(sluice.OpUpdate, tb, r(int64(1), "a", nil), r(int64(1), "A", nil)))
	err = s.Write(bg(t), b2)
	if err == nil || sluice.IsPermanent(err) {
		t.Fatalf("Write while the server is down = %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), pg.Password) {
		t.Fatalf("error leaks the password: %v", err)
	}
	if err := srv.Start(bg(t)); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s, b2)
	if got, want := rowsOf(t, s, tb), "[[1 A <nil>] [2 b <nil>]]"; got != want {
		t.Fatalf("rows = %s, want %s", got, want)
	}
	if got := checkpointOf(t, s); got != "p2" {
		t.Fatalf("checkpoint = %q, want p2", got)
	}
}

// SPEC K1: schema changes other than ADD COLUMN follow OnDDL; a new table
// is created.
func TestSchemaChanges(t *testing.T) {
	v1 := simpleTable(t, "s", "ddl")
	cols := append([]sluice.Column{}, v1.Columns...)
	cols[2].Type = sluice.Type{Kind: sluice.KindString, Length: 5} // INT -> VARCHAR(5)
	typeChanged, _ := sluice.NewTable(v1.ID, cols, []int{0})
	dropped, _ := sluice.NewTable(v1.ID, []sluice.Column{v1.Columns[0], {Name: "name", Type: v1.Columns[1].Type}}, []int{0})
	dropped.Columns[1].Nullable = true
	v1NotNull, _ := sluice.NewTable(v1.ID, []sluice.Column{v1.Columns[0], v1.Columns[1], {Name: "n", Type: v1.Columns[2].Type}}, []int{0})

	t.Run("fail", func(t *testing.T) {
		_, s, _ := setup(t, postgres.Config{}, v1)
		err := s.Write(bg(t), batch("p1", sluice.Change{Op: sluice.OpSchema, Table: typeChanged, OldTable: v1, DDL: "ALTER TABLE ddl MODIFY n VARCHAR(5)"}))
		if !errors.Is(err, postgres.ErrDDL) || !sluice.IsPermanent(err) || !strings.Contains(err.Error(), "s.ddl") || !strings.Contains(err.Error(), "MODIFY n VARCHAR(5)") {
			t.Fatalf("Write = %v, want a permanent ErrDDL naming table and DDL", err)
		}
	})
	t.Run("skip-drop-column", func(t *testing.T) {
		_, s, _ := setup(t, postgres.Config{OnDDL: postgres.DDLSkip}, v1NotNull)
		mustWrite(t, s, batch("p1", ch(sluice.OpInsert, v1NotNull, nil, r(int64(1), "a", int64(1)))))
		mustWrite(t, s, batch("p2", sluice.Change{Op: sluice.OpSchema, Table: dropped, OldTable: v1NotNull, DDL: "ALTER TABLE ddl DROP COLUMN n"},
			ch(sluice.OpInsert, dropped, nil, r(int64(2), "b"))))
		if got, want := rowsOf(t, s, v1NotNull), "[[1 a 1] [2 b <nil>]]"; got != want {
			t.Fatalf("rows = %s, want %s (dropped column kept, NOT NULL relaxed)", got, want)
		}
	})
	t.Run("widen-and-relax", func(t *testing.T) {
		en := func(m ...string) sluice.Type { return sluice.Type{Kind: sluice.KindEnum, Members: m} }
		a, _ := sluice.NewTable(sluice.TableID{Schema: "s", Name: "widen"}, []sluice.Column{
			{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}},
			{Name: "name", Type: sluice.Type{Kind: sluice.KindString, Length: 4}},
			{Name: "amount", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 5, Scale: 2}, Nullable: true},
			{Name: "size", Type: en("s", "m"), Nullable: true},
			{Name: "at", Type: sluice.Type{Kind: sluice.KindDateTime}, Nullable: true},
		}, []int{0})
		b, _ := sluice.NewTable(a.ID, []sluice.Column{
			{Name: "id", Type: sluice.Type{Kind: sluice.KindUint, Bits: 64}},
			{Name: "name", Type: sluice.Type{Kind: sluice.KindString, Length: 100}, Nullable: true},
			{Name: "amount", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 30, Scale: 2}, Nullable: true},
			{Name: "size", Type: en("s", "m", "xl"), Nullable: true},
			{Name: "at", Type: sluice.Type{Kind: sluice.KindDateTime, Scale: 6}, Nullable: true},
		}, []int{0})
		_, s, _ := setup(t, postgres.Config{}, a)
		mustWrite(t, s, batch("p1", ch(sluice.OpInsert, a, nil, r(int64(1), "abcd", sluice.Decimal("999.99"), "m", time.Date(2020, 1, 1, 0, 0, 1, 0, time.UTC)))))
		big := r(uint64(1<<64-1), nil, sluice.Decimal("1234567890123456789012345678.00"), "xl", time.Date(2020, 1, 1, 0, 0, 1, 123456000, time.UTC))
		mustWrite(t, s, batch("p2", sluice.Change{Op: sluice.OpSchema, Table: b, OldTable: a, DDL: "ALTER TABLE widen MODIFY ..."},
			ch(sluice.OpInsert, b, nil, big)))
		if got, want := rowsOf(t, s, b), fmt.Sprint([]sluice.Row{r(uint64(1), "abcd", sluice.Decimal("999.99"), "m", time.Date(2020, 1, 1, 0, 0, 1, 0, time.UTC)), big}); got != want {
			t.Fatalf("rows = %s\nwant   %s", got, want)
		}
	})
	t.Run("new-table", func(t *testing.T) {
		_, s, _ := setup(t, postgres.Config{}, v1)
		nt := simpleTable(t, "other schema", "brand new")
		mustWrite(t, s, batch("p1", sluice.Change{Op: sluice.OpSchema, Table: nt, DDL: "CREATE TABLE ..."}, ch(sluice.OpInsert, nt, nil, r(int64(1), "x", nil))))
		if got := rowsOf(t, s, nt); got != "[[1 x <nil>]]" {
			t.Fatalf("rows = %s", got)
		}
	})
}

// SPEC P4, T4: precheck reports unsupported types, missing keys, missing
// privileges and bad credentials (without the password).
func TestPrecheck(t *testing.T) {
	bad, _ := sluice.NewTable(sluice.TableID{Schema: "s", Name: "bad"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "huge", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 2000, Scale: 10}},
		{Name: "bits", Type: sluice.Type{Kind: sluice.KindBit, Length: 0}},
	}, []int{0})
	nokey, _ := sluice.NewTable(sluice.TableID{Schema: "s", Name: "nokey"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: strings.Repeat("ü", 32), Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}}}, nil)
	tg, s, pool := setup(t, postgres.Config{})
	report := &sluice.Report{Checks: s.Precheck(bg(t), []*sluice.Table{bad, nokey})}
	text := report.String()
	for _, want := range []string{`[fail] postgres sink: table s.bad column "huge": type`, `[fail] postgres sink: table s.bad column "bits": type`,
		"[fail] postgres sink: table s.nokey: primary key", "[ok] postgres sink: connection",
		`[fail] postgres sink: table s.nokey column "` + strings.Repeat("ü", 32) + `": name length: 64 bytes`} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if err := s.SyncSchema(bg(t), []*sluice.Table{bad}); !errors.Is(err, postgres.ErrUnsupportedType) {
		t.Errorf("SyncSchema(bad) = %v, want ErrUnsupportedType", err)
	}
	if err := s.Write(bg(t), batch("", ch(sluice.OpInsert, nokey, nil, r(int64(1), int64(2))))); !errors.Is(err, postgres.ErrNoKey) || !sluice.IsPermanent(err) {
		t.Errorf("Write(nokey) = %v, want permanent ErrNoKey", err)
	}

	// A user without CREATE privilege (roles are server-wide: a unique name).
	weak := fmt.Sprintf("weak_%d", time.Now().UnixNano())
	if _, err := pool.Exec(bg(t), strings.ReplaceAll(`CREATE ROLE ROLENAME LOGIN PASSWORD 'weak-secret-pw'; REVOKE CREATE ON SCHEMA public FROM PUBLIC;
		CREATE TABLE public.existing (id bigint PRIMARY KEY, name text, n int); GRANT SELECT, INSERT ON public.existing TO ROLENAME`, "ROLENAME", weak)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP TABLE public.existing; DROP OWNED BY "+weak+"; DROP ROLE "+weak)
	})
	cfg, _ := pgx.ParseConfig(tg.conn)
	weakURL := fmt.Sprintf("postgres://%s:weak-secret-pw@%s:%d/%s?sslmode=disable", weak, cfg.Host, cfg.Port, cfg.Database)
	ws, err := postgres.New(bg(t), postgres.Config{ConnString: weakURL, TargetSchema: "public", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	text = (&sluice.Report{Checks: ws.Precheck(bg(t), []*sluice.Table{simpleTable(t, "x", "y"), simpleTable(t, "x", "existing")})}).String()
	if !strings.Contains(text, `[fail] postgres sink: CREATE privilege on schema "public"`) || !strings.Contains(text, `[fail] postgres sink: checkpoint table "sluice"."checkpoints": the user cannot read and write`) ||
		!strings.Contains(text, `[fail] postgres sink: table "public"."existing": the table exists and the user lacks INSERT, UPDATE, DELETE or TRUNCATE`) {
		t.Errorf("report lacks privilege failures:\n%s", text)
	}

	// Wrong password: a failed connection item, and no secret anywhere.
	wrong := fmt.Sprintf("postgres://%s:not-the-password-xyz@%s:%d/%s?sslmode=disable", weak, cfg.Host, cfg.Port, cfg.Database)
	bs, err := postgres.New(bg(t), postgres.Config{ConnString: wrong, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	text = (&sluice.Report{Checks: bs.Precheck(bg(t), nil)}).String()
	if !strings.Contains(text, "[fail] postgres sink: connection") || strings.Contains(text, "not-the-password-xyz") {
		t.Errorf("report = %s; want a connection failure without the password", text)
	}
	werr := bs.Write(bg(t), batch("p"))
	if werr == nil || strings.Contains(werr.Error(), "not-the-password-xyz") {
		t.Errorf("Write = %v; want an error without the password", werr)
	}
}

func TestConfig(t *testing.T) {
	var c postgres.Config
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "ConnString is required") {
		t.Fatalf("Validate = %v", err)
	}
	c = postgres.Config{ConnString: "x", Conflict: 9, LoadWorkers: -1}
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "Conflict 9") || !strings.Contains(err.Error(), "LoadWorkers -1") {
		t.Fatalf("Validate = %v", err)
	}
	_, err = postgres.New(context.Background(), postgres.Config{ConnString: "postgres://u:s3cr3t-pw@[::1:bad/db"})
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("New with a bad URL = %v; want an error without the password", err)
	}
}

// Greenplum-style distribution clause.
func TestDistributedBy(t *testing.T) {
	tb := simpleTable(t, "gp", "facts")
	s, err := postgres.New(context.Background(), postgres.Config{ConnString: "postgres://localhost/x", DistributeByKey: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ddl, err := s.CreateTableSQL(tb)
	if err != nil {
		t.Fatal(err)
	}
	want := `CREATE TABLE IF NOT EXISTS "gp"."facts" ("id" bigint NOT NULL, "name" varchar(8), "n" integer, PRIMARY KEY ("id")) DISTRIBUTED BY ("id")`
	if ddl != want {
		t.Fatalf("DDL = %s\nwant  %s", ddl, want)
	}
	s2, _ := postgres.New(context.Background(), postgres.Config{ConnString: "postgres://localhost/x", TargetSchema: "dw",
		DistributedBy: map[sluice.TableID][]string{tb.ID: {"name"}}})
	defer s2.Close()
	ddl, _ = s2.CreateTableSQL(tb)
	if !strings.HasPrefix(ddl, `CREATE TABLE IF NOT EXISTS "dw"."facts"`) || !strings.HasSuffix(ddl, `DISTRIBUTED BY ("name")`) {
		t.Fatalf("DDL = %s", ddl)
	}
}

// SPEC P2: after a Write whose COMMIT failed, a retry of a batch that did
// commit (its position is the checkpoint) is not applied again; one that did
// not commit is applied.
func TestRetryAfterFailedCommit(t *testing.T) {
	tb := simpleTable(t, "s", "commit_fail")
	_, s, pool := setup(t, postgres.Config{Conflict: postgres.ConflictFail}, tb)
	mustWrite(t, s, batch("p1", ch(sluice.OpInsert, tb, nil, r(int64(1), "a", nil))))
	// A deferred constraint trigger fails the COMMIT itself.
	if _, err := pool.Exec(bg(t), `CREATE FUNCTION s.no_commit() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'commit refused'; END$$;
		CREATE CONSTRAINT TRIGGER no_commit AFTER INSERT ON s.commit_fail DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION s.no_commit()`); err != nil {
		t.Fatal(err)
	}
	b2 := batch("p2", ch(sluice.OpInsert, tb, nil, r(int64(2), "b", nil)))
	if err := s.Write(bg(t), b2); err == nil || !strings.Contains(err.Error(), "commit refused") {
		t.Fatalf("Write = %v, want the commit to fail", err)
	}
	if _, err := pool.Exec(bg(t), `DROP TRIGGER no_commit ON s.commit_fail`); err != nil {
		t.Fatal(err)
	}
	// Pretend the COMMIT happened (data and checkpoint) without an answer.
	if _, err := pool.Exec(bg(t), `INSERT INTO s.commit_fail VALUES (2, 'b', NULL); UPDATE sluice.checkpoints SET position = 'p2' WHERE name = 'test'`); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s, b2) // under ConflictFail a second apply would be a duplicate insert
	if got := rowsOf(t, s, tb); got != "[[1 a <nil>] [2 b <nil>]]" {
		t.Fatalf("rows = %s", got)
	}
	// The flag is cleared: a later batch that conflicts fails as it should.
	if err := s.Write(bg(t), batch("p3", ch(sluice.OpInsert, tb, nil, r(int64(2), "b", nil)))); !errors.Is(err, postgres.ErrConflict) {
		t.Fatalf("Write = %v, want ErrConflict", err)
	}
	// After that failure, a retry of a batch that did not commit applies.
	mustWrite(t, s, batch("p3", ch(sluice.OpInsert, tb, nil, r(int64(3), "c", nil))))
	if got := rowsOf(t, s, tb); got != "[[1 a <nil>] [2 b <nil>] [3 c <nil>]]" {
		t.Fatalf("rows = %s", got)
	}
}

// An update without a before image (a same-key update from a source that
// sends no old row) is keyed by its after image; a delete without one is a
// clear permanent error.
func TestMissingBeforeImage(t *testing.T) {
	tb := simpleTable(t, "s", "no_before")
	_, s, _ := setup(t, postgres.Config{}, tb)
	mustWrite(t, s, batch("p1", ch(sluice.OpInsert, tb, nil, r(int64(1), "a", nil))))
	mustWrite(t, s, batch("p2", ch(sluice.OpUpdate, tb, nil, r(int64(1), "b", int64(2)))))
	if got := rowsOf(t, s, tb); got != "[[1 b 2]]" {
		t.Fatalf("rows = %s", got)
	}
	err := s.Write(bg(t), batch("p3", ch(sluice.OpDelete, tb, nil, nil)))
	if err == nil || !sluice.IsPermanent(err) || !strings.Contains(err.Error(), "before image") {
		t.Fatalf("Write = %v", err)
	}
}

// SPEC P4: a user without CREATE on the database, given a target schema it
// owns and use of checkpoint tables an administrator prepared, passes the
// precheck and replicates.
func TestLeastPrivilege(t *testing.T) {
	tb := simpleTable(t, "app", "t")
	tg, admin, pool := setup(t, postgres.Config{})
	mustWrite(t, admin, batch("p0")) // creates the checkpoint schema and tables
	role := fmt.Sprintf("lp_%d", time.Now().UnixNano())
	if _, err := pool.Exec(bg(t), strings.ReplaceAll(`CREATE ROLE RNAME LOGIN PASSWORD 'lp-pw'; CREATE SCHEMA app AUTHORIZATION RNAME;
		GRANT USAGE ON SCHEMA sluice TO RNAME; GRANT SELECT, INSERT, UPDATE ON sluice.checkpoints, sluice.checkpoints_tables TO RNAME`, "RNAME", role)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA app CASCADE; DROP OWNED BY "+role+"; DROP ROLE "+role)
	})
	cfg, _ := pgx.ParseConfig(tg.conn)
	s, err := postgres.New(bg(t), postgres.Config{Logger: quiet,
		ConnString: fmt.Sprintf("postgres://%s:lp-pw@%s:%d/%s?sslmode=disable", role, cfg.Host, cfg.Port, cfg.Database)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep := &sluice.Report{Checks: s.Precheck(bg(t), []*sluice.Table{tb})}
	if !rep.OK() {
		t.Fatalf("precheck failed:\n%s", rep)
	}
	if err := s.SyncSchema(bg(t), []*sluice.Table{tb}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s, batch("p1", ch(sluice.OpInsert, tb, nil, r(int64(1), "a", nil)), ch(sluice.OpUpdate, tb, r(int64(1), "a", nil), r(int64(1), "b", nil))))
	if got := rowsOf(t, s, tb); got != "[[1 b <nil>]]" {
		t.Fatalf("rows = %s", got)
	}
	if got := checkpointOf(t, s); got != "p1" {
		t.Fatalf("checkpoint = %q", got)
	}
}

// A MySQL zero date in a NOT NULL column arrives as NULL (or as the zero
// Date, written as NULL): the target column is created without NOT NULL.
func TestZeroDateInNotNullColumn(t *testing.T) {
	tb, err := sluice.NewTable(sluice.TableID{Schema: "s", Name: "zero"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "d", Type: sluice.Type{Kind: sluice.KindDate}},
		{Name: "dt", Type: sluice.Type{Kind: sluice.KindDateTime}},
		{Name: "ts", Type: sluice.Type{Kind: sluice.KindTimestamp}},
	}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	_, s, _ := setup(t, postgres.Config{}, tb)
	mustWrite(t, s, batch("p1", ch(sluice.OpInsert, tb, nil, r(int64(1), sluice.Date{}, nil, nil))))
	if got := rowsOf(t, s, tb); got != "[[1 <nil> <nil> <nil>]]" {
		t.Fatalf("rows = %s", got)
	}
	ddl, _ := s.CreateTableSQL(tb)
	if !strings.Contains(ddl, `"id" bigint NOT NULL`) || strings.Contains(ddl, `"d" date NOT NULL`) {
		t.Fatalf("DDL = %s", ddl)
	}
}
