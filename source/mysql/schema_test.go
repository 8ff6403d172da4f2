package mysql_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/source/mysql"
)

// TestSchemaHistory (S3): rows written before and after ALTER TABLE ADD
// COLUMN, DROP COLUMN, RENAME COLUMN and a type change are decoded, when
// streaming is restarted from a position before all of it, with the
// columns in force when each row was written; DDL becomes OpSchema and
// TRUNCATE becomes OpTruncate.
func TestSchemaHistory(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY, `a` VARCHAR(10))")
	cfg := config(my, db+".t", db+".new*")
	r := start(t, cfg, nil, nil)
	cs := r.out.waitFor(t, "a position", 30*time.Second, func(cs []sluice.Change) bool { return len(cs) > 0 && cs[len(cs)-1].Pos != nil })
	pos := cs[len(cs)-1].Pos
	r.stop()

	my.Exec(t, db,
		"INSERT INTO `t` VALUES (1, 'one')",
		"ALTER TABLE `t` ADD COLUMN `b` INT UNSIGNED NOT NULL DEFAULT 7 AFTER `id`",
		"INSERT INTO `t` VALUES (2, 8, 'two')",
		"ALTER TABLE `t` DROP COLUMN `a`",
		"INSERT INTO `t` VALUES (3, 9)",
		"ALTER TABLE `t` RENAME COLUMN `b` TO `bee`, MODIFY `id` BIGINT NOT NULL",
		"INSERT INTO `t` VALUES (4, 10)",
		"ALTER TABLE `t` ADD COLUMN `j` JSON",
		"INSERT INTO `t` VALUES (5, 11, '{\"k\": 1}')",
		"TRUNCATE TABLE `t`",
		"CREATE TABLE `newl` (`id` INT PRIMARY KEY, `s` VARCHAR(10)) CHARACTER SET latin1",
		"INSERT INTO `newl` VALUES (1, 'é')",
		"ALTER TABLE `newl` CONVERT TO CHARACTER SET utf8mb4",
		"INSERT INTO `newl` VALUES (2, 'é😀')",
		"CREATE TABLE `newt` (`k` VARCHAR(5) CHARACTER SET latin1 PRIMARY KEY, `d` DECIMAL(6,2))",
		"INSERT INTO `newt` VALUES ('é', 1.5)",
		"DROP TABLE `newt`",
	)
	// Today's schema of t is (id, bee, j): a decoder using it would fail
	// on the old rows. The literally selected table dropped since the
	// position must not stop the resume either.
	cfg.Tables = append(cfg.Tables, db+".dropped")
	r2 := start(t, cfg, pos, nil)
	cs = r2.out.waitFor(t, "all changes", 30*time.Second, func(cs []sluice.Change) bool {
		for _, c := range cs {
			if c.Op == sluice.OpSchema && c.Dropped && c.Table.ID.Name == "newt" {
				return true
			}
		}
		return false
	})
	type want struct {
		op   sluice.Op
		cols []string
		row  []any
	}
	wants := []want{
		{sluice.OpInsert, []string{"id", "a"}, []any{int64(1), "one"}},
		{sluice.OpSchema, []string{"id", "b", "a"}, nil},
		{sluice.OpInsert, []string{"id", "b", "a"}, []any{int64(2), uint64(8), "two"}},
		{sluice.OpSchema, []string{"id", "b"}, nil},
		{sluice.OpInsert, []string{"id", "b"}, []any{int64(3), uint64(9)}},
		{sluice.OpSchema, []string{"id", "bee"}, nil},
		{sluice.OpInsert, []string{"id", "bee"}, []any{int64(4), uint64(10)}},
		{sluice.OpSchema, []string{"id", "bee", "j"}, nil},
		{sluice.OpInsert, []string{"id", "bee", "j"}, []any{int64(5), uint64(11), `{"k":1}`}},
		{sluice.OpTruncate, []string{"id", "bee", "j"}, nil},
		{sluice.OpSchema, []string{"id", "s"}, nil},
		{sluice.OpInsert, []string{"id", "s"}, []any{int64(1), "é"}},
		{sluice.OpInsert, []string{"id", "s"}, []any{int64(2), "é😀"}},
		{sluice.OpSchema, []string{"k", "d"}, nil},
		{sluice.OpInsert, []string{"k", "d"}, []any{"é", sluice.Decimal("1.50")}},
		{sluice.OpSchema, []string{"k", "d"}, nil},
	}
	var got []sluice.Change
	for _, c := range cs {
		if c.Op != sluice.OpHeartbeat {
			got = append(got, c)
		}
	}
	if len(got) != len(wants) {
		for _, c := range got {
			t.Logf("%s %v %v", c.Op, c.Table, c.After)
		}
		t.Fatalf("got %d changes, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		c := got[i]
		if c.Op != w.op {
			t.Fatalf("change %d: op %s, want %s", i, c.Op, w.op)
		}
		var names []string
		for _, col := range c.Table.Columns {
			names = append(names, col.Name)
		}
		if len(names) != len(w.cols) {
			t.Fatalf("change %d (%s): columns %v, want %v", i, c.Op, names, w.cols)
		}
		for k := range names {
			if names[k] != w.cols[k] {
				t.Fatalf("change %d (%s): columns %v, want %v", i, c.Op, names, w.cols)
			}
		}
		for k, v := range w.row {
			g := c.After[k]
			if j, ok := g.(sluice.JSON); ok {
				g = string(j)
			}
			if g != v {
				t.Errorf("change %d: column %s = %#v, want %#v", i, w.cols[k], g, v)
			}
		}
		if c.Op == sluice.OpSchema && c.DDL == "" {
			t.Errorf("change %d: schema change without DDL", i)
		}
		if c.Pos == nil && c.Op != sluice.OpInsert {
			t.Errorf("change %d (%s) ends its transaction but has no Pos", i, c.Op)
		}
	}
	if got[1].OldTable == nil || len(got[1].OldTable.Columns) != 2 {
		t.Errorf("ADD COLUMN: OldTable = %v", got[1].OldTable)
	}
	if k := got[5].Table.Columns[0].Type; k.Kind != sluice.KindInt || k.Bits != 64 {
		t.Errorf("MODIFY id BIGINT: type %v", k)
	}
	if !got[15].Dropped {
		t.Errorf("DROP TABLE: not marked Dropped")
	}
	// Restarting from the position after the second ALTER decodes with the
	// schema saved in that position.
	r2.stop()
	mid := got[3].Pos
	r3 := start(t, cfg, mid, nil)
	cs3 := r3.out.waitFor(t, "insert 3", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) >= 2 })
	for _, c := range cs3 {
		if c.Op == sluice.OpInsert {
			if len(c.After) != 2 || c.After[0] != int64(3) {
				t.Errorf("after restart: first insert %v, want [3 9]", c.After)
			}
			break
		}
	}
}

// TestSchemaDrift (S3, P6): streaming from a user-given position with no
// schema history, across a DDL that already happened, is detected and
// stops with an error naming the table and the remedy, instead of
// decoding rows with the wrong columns.
func TestSchemaDrift(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY, `a` INT)")
	var file string
	var off uint32
	var x, y any
	if err := my.DB(t, "").QueryRow("SHOW MASTER STATUS").Scan(&file, &off, &x, &y); err != nil {
		t.Fatal(err)
	}
	my.Exec(t, db, "INSERT INTO `t` VALUES (1, 1)", "ALTER TABLE `t` ADD COLUMN `b` INT")
	cfg := config(my, db+".t")
	cfg.StartMode, cfg.StartFile, cfg.StartOffset = mysql.StartFilePos, file, off
	r := start(t, cfg, nil, nil)
	select {
	case err := <-r.done:
		r.done <- err
		if err == nil || !strings.Contains(err.Error(), db+".t") || !strings.Contains(err.Error(), "schema drift") || !strings.Contains(err.Error(), "re-snapshot") {
			t.Fatalf("want a schema drift error naming the table and the remedy, got %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no error")
	}
	if n := countOp(r.out.snapshot(), sluice.OpInsert); n != 0 {
		t.Errorf("%d rows decoded with the wrong schema", n)
	}
}
