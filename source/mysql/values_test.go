package mysql_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/fidelity"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/source/mysql"
)

// TestValueFidelity (S2) writes edge values of every MySQL type, reads them
// by the snapshot and from the binlog, and requires both to equal the
// expected Go values exactly, with the host in Asia/Kolkata (TestMain) and
// the server's time_zone at -07:00.
func TestValueFidelity(t *testing.T) {
	my := testenv.MariaDB(t)
	my.Exec(t, "", "SET GLOBAL time_zone = '-07:00'")
	t.Cleanup(func() { my.Exec(t, "", "SET GLOBAL time_zone = 'SYSTEM'") })
	db := my.CreateDatabase(t)
	zone := time.FixedZone("", -7*3600) // the session zone rows are written in
	cols := fidelity.Columns(zone)
	my.Exec(t, db, fidelity.CreateTable("types", cols))
	insert := func(ids ...int) { my.Exec(t, db, fidelity.Insert("types", cols, zone, ids...)) }
	insert(1, 2, 3)

	cfg := config(my, db+".types")
	cfg.ChunkBytes = 1 // one row a chunk: the 70 KB blob and everything else
	r := start(t, cfg, nil, nil)
	r.out.waitFor(t, "3 snapshot rows", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpRead) == 3 })
	insert(101, 102, 103)
	cs := r.out.waitFor(t, "3 binlog inserts", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) == 3 })

	rows := map[int64]sluice.Row{}
	var table *sluice.Table
	for _, c := range cs {
		if c.Op == sluice.OpRead || c.Op == sluice.OpInsert {
			rows[c.After[0].(int64)] = c.After
			if table != nil && c.Table != table {
				t.Errorf("one schema version, two *Table pointers (snapshot and stream must agree)")
			}
			table = c.Table
		}
	}
	if tabs, err := r.src.Tables(context.Background()); err != nil || len(tabs) != 1 || tabs[0] != table {
		t.Errorf("Tables() does not return the version rows carry: %v", err)
	}
	for i, c := range cols {
		col := table.Columns[i+1]
		if col.Name != c.Name || col.Type.Kind != c.Kind {
			t.Errorf("column %d: got %s %s, want %s %s", i+1, col.Name, col.Type.Kind, c.Name, c.Kind)
		}
	}
	if srid := table.Columns[table.ColumnIndex("geo4326")].Type.SRID; srid != 4326 {
		t.Errorf("POINT REF_SYSTEM_ID=4326: Type.SRID = %d", srid)
	}
	if n := table.Columns[table.ColumnIndex("b1")].Native; n != "tinyint(1)" {
		t.Errorf("TINYINT(1) native = %q", n)
	}
	for base := int64(1); base <= 3; base++ {
		for _, src := range []int64{base, base + 100} {
			row := rows[src]
			if row == nil {
				t.Fatalf("row %d missing", src)
			}
			for i, c := range cols {
				want := c.WantFor(int(base))
				got := row[i+1]
				how := "snapshot"
				if src > 100 {
					how = "binlog"
				}
				if !sluice.Equal(got, want) {
					t.Errorf("%s row %d column %s (%s): got %#v (%T), want %#v (%T)", how, base, c.Name, c.Type, short(got), got, short(want), want)
				}
			}
		}
	}
}

func short(v any) any {
	switch x := v.(type) {
	case string:
		if len(x) > 60 {
			return x[:60] + "..."
		}
	case []byte:
		if len(x) > 60 {
			return x[:60]
		}
	}
	return v
}

// TestZeroDatePolicies (S2): zero dates are NULL by default (TestValueFidelity),
// kept as zero values with ZeroDateKeep — identically in snapshot and
// binlog — and an error naming the column with ZeroDateError.
func TestZeroDatePolicies(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `z` (`id` INT PRIMARY KEY, `d` DATE, `dt` DATETIME(3), `ts` TIMESTAMP NULL)")
	ins := func(id int) {
		my.Exec(t, db, fmt.Sprintf("SET SESSION sql_mode = ''; INSERT INTO `z` VALUES (%d, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00')", id))
	}
	ins(1)
	cfg := config(my, db+".z")
	cfg.ZeroDate = mysql.ZeroDateKeep
	r := start(t, cfg, nil, nil)
	r.out.waitFor(t, "snapshot row", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpRead) == 1 })
	ins(2)
	cs := r.out.waitFor(t, "binlog row", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) == 1 })
	for _, c := range cs {
		if !c.Op.IsRow() {
			continue
		}
		if c.After[1] != (sluice.Date{}) || c.After[2] != (time.Time{}) || c.After[3] != (time.Time{}) {
			t.Errorf("%s: ZeroDateKeep gave %#v", c.Op, c.After)
		}
	}
	r.stop()

	cfg.ZeroDate = mysql.ZeroDateError
	r2 := start(t, cfg, nil, nil)
	select {
	case err := <-r2.done:
		r2.done <- err
		if err == nil || !strings.Contains(err.Error(), `"d"`) || !strings.Contains(err.Error(), "zero date") {
			t.Fatalf("ZeroDateError: got %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ZeroDateError: no error")
	}
}
