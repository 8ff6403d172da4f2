package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
)

// target is an in-memory replica keyed by the primary key, applying every
// row change as an upsert or delete (what sinks do).
type target struct {
	rows map[string]string // key -> "v|w"
}

func newTarget() *target { return &target{rows: map[string]string{}} }

func rowKey(r sluice.Row) string { return fmt.Sprint(r[0]) }
func rowVal(r sluice.Row) string { return fmt.Sprint(r[1:]...) }

func (tg *target) apply(cs []sluice.Change) {
	for _, c := range cs {
		switch c.Op {
		case sluice.OpRead, sluice.OpInsert:
			tg.rows[rowKey(c.After)] = rowVal(c.After)
		case sluice.OpUpdate:
			delete(tg.rows, rowKey(c.Before))
			tg.rows[rowKey(c.After)] = rowVal(c.After)
		case sluice.OpDelete:
			delete(tg.rows, rowKey(c.Before))
		case sluice.OpTruncate:
			tg.rows = map[string]string{}
		}
	}
}

// sourceRows reads the table as the target stores it.
func sourceRows(t *testing.T, db *sql.DB, table string) map[string]string {
	t.Helper()
	rows, err := db.Query("SELECT `id`, `v`, `w` FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, v int64
		var w string
		if err := rows.Scan(&id, &v, &w); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint(id)] = fmt.Sprint(v, w)
	}
	return out
}

// writer runs random inserts, updates (some changing the key) and deletes
// in small transactions until stopped.
func writer(ctx context.Context, db *sql.DB, table string, seed int64, maxID int) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rnd := rand.New(rand.NewSource(seed))
		next := maxID + 1 + int(seed%7)*1000000
		for ctx.Err() == nil {
			tx, err := db.Begin()
			if err != nil {
				continue
			}
			for k := 0; k < 1+rnd.Intn(4); k++ {
				id := 1 + rnd.Intn(maxID)
				switch rnd.Intn(5) {
				case 0, 1:
					tx.Exec("UPDATE "+table+" SET `v` = `v` + 1, `w` = ? WHERE `id` = ?", fmt.Sprint("u", rnd.Intn(1000)), id)
				case 2:
					tx.Exec("DELETE FROM "+table+" WHERE `id` = ?", id)
				case 3:
					next++
					tx.Exec("INSERT INTO "+table+" (`id`, `v`, `w`) VALUES (?, ?, 'new')", next, rnd.Intn(100))
				case 4:
					next++
					tx.Exec("UPDATE "+table+" SET `id` = ? WHERE `id` = ?", next, id)
				}
			}
			tx.Commit()
		}
	}()
	return &wg
}

func fillTable(t *testing.T, my *testenv.MySQL, db string, n int) {
	my.Exec(t, db, "CREATE TABLE `t` (`id` BIGINT PRIMARY KEY, `v` INT NOT NULL, `w` VARCHAR(40) NOT NULL)")
	for i := 0; i < n; i += 1000 {
		q := "INSERT INTO `t` VALUES "
		for j := i; j < i+1000 && j < n; j++ {
			if j > i {
				q += ","
			}
			q += fmt.Sprintf("(%d, %d, 'w%d')", j+1, j, j)
		}
		my.Exec(t, db, q)
	}
}

// converge waits until the target equals the source table.
func converge(t *testing.T, out *collector, tg *target, applied *int, db *sql.DB, table string) {
	t.Helper()
	want := sourceRows(t, db, table)
	deadline := time.Now().Add(60 * time.Second)
	for {
		cs := out.snapshot()
		tg.apply(cs[*applied:])
		*applied = len(cs)
		if len(tg.rows) == len(want) {
			same := true
			for k, v := range want {
				if tg.rows[k] != v {
					same = false
					break
				}
			}
			if same {
				return
			}
		}
		if time.Now().After(deadline) {
			missing, extra, diff := 0, 0, 0
			for k, v := range want {
				if g, ok := tg.rows[k]; !ok {
					missing++
				} else if g != v {
					diff++
				}
			}
			for k := range tg.rows {
				if _, ok := want[k]; !ok {
					extra++
				}
			}
			t.Fatalf("target != source: %d rows missing, %d extra, %d different (source %d rows)", missing, extra, diff, len(want))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSnapshotHandoffWithWriters (S5) snapshots a table in parallel chunks
// while writers change it, then streams: the target ends equal to the
// source, with no lost and no duplicated rows.
func TestSnapshotHandoffWithWriters(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	fillTable(t, my, db, 5000)
	sqldb := my.DB(t, db)
	ctx, stop := context.WithCancel(context.Background())
	w1 := writer(ctx, sqldb, "`t`", 1, 5000)
	w2 := writer(ctx, sqldb, "`t`", 2, 5000)
	time.Sleep(200 * time.Millisecond)

	cfg := config(my, db+".t")
	cfg.SnapshotWorkers = 3
	cfg.ChunkBytes = 2000 // chunks end on bytes (about 60 rows) before ChunkSize (100)
	r := start(t, cfg, nil, nil)
	r.out.waitFor(t, "snapshot end", 60*time.Second, func(cs []sluice.Change) bool {
		for i := range cs {
			if cs[i].Op == sluice.OpInsert || cs[i].Op == sluice.OpUpdate || cs[i].Op == sluice.OpDelete {
				return true
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond)
	stop()
	w1.Wait()
	w2.Wait()
	tg := newTarget()
	applied := 0
	converge(t, r.out, tg, &applied, sqldb, "`t`")
	cs := r.out.snapshot()
	reads := countOp(cs, sluice.OpRead)
	if reads < 4000 {
		t.Errorf("only %d snapshot reads", reads)
	}
	// Progress reached done with a plausible total.
	var done bool
	for _, p := range r.out.progress {
		if p.Done && p.Rows == int64(reads) {
			done = true
		}
	}
	if !done {
		t.Errorf("no final progress with Rows=%d: %+v", reads, r.out.progress[len(r.out.progress)-1])
	}
}

// TestSnapshotResume (S5) crashes the source in the middle of the snapshot
// while writers run, restarts it from the last emitted position, and
// requires the restart to continue (not start over) and the target to end
// equal to the source.
func TestSnapshotResume(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	fillTable(t, my, db, 6000)
	sqldb := my.DB(t, db)
	ctx, stop := context.WithCancel(context.Background())
	w1 := writer(ctx, sqldb, "`t`", 3, 6000)

	cfg := config(my, db+".t")
	cfg.SnapshotWorkers = 2
	out1 := &collector{failAt: 2550} // mid-chunk (chunks are 100 rows)
	r1 := start(t, cfg, nil, out1)
	select {
	case err := <-r1.done:
		r1.done <- err // for the cleanup's stop
		if err == nil {
			t.Fatal("first run ended without error")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("first run did not fail")
	}
	cs1 := out1.snapshot()
	// Keep what a sink would have checkpointed: up to the last Pos.
	cut := -1
	for i := range cs1 {
		if cs1[i].Pos != nil {
			cut = i
		}
	}
	if cut < 0 {
		t.Fatal("no position emitted before the crash")
	}
	tg := newTarget()
	tg.apply(cs1[:cut+1])
	time.Sleep(300 * time.Millisecond) // more writes between crash and restart

	r2 := start(t, cfg, cs1[cut].Pos, nil)
	r2.out.waitFor(t, "streaming after resumed snapshot", 60*time.Second, func(cs []sluice.Change) bool {
		return countOp(cs, sluice.OpInsert)+countOp(cs, sluice.OpUpdate) > 0
	})
	time.Sleep(300 * time.Millisecond)
	stop()
	w1.Wait()
	applied := 0
	converge(t, r2.out, tg, &applied, sqldb, "`t`")
	reads2 := countOp(r2.out.snapshot(), sluice.OpRead)
	if reads2 == 0 || reads2 >= 5500 {
		t.Errorf("resumed snapshot read %d rows: want it to continue, not start over", reads2)
	}
}

// TestSnapshotWithoutLockPrivilege (S5): on MariaDB without LOCK TABLES
// the snapshot falls back to one unlocked consistent-snapshot transaction
// and binlog_snapshot_file/position; with writers running, the target
// still ends equal to the source.
func TestSnapshotWithoutLockPrivilege(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	fillTable(t, my, db, 3000)
	my.Exec(t, "", "CREATE USER IF NOT EXISTS 'nolock'@'%' IDENTIFIED BY 'nolock-pass'",
		"GRANT SELECT ON `"+db+"`.* TO 'nolock'@'%'",
		"GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'nolock'@'%'")
	defer my.Exec(t, "", "DROP USER 'nolock'@'%'")
	sqldb := my.DB(t, db)
	ctx, stop := context.WithCancel(context.Background())
	w := writer(ctx, sqldb, "`t`", 5, 3000)
	time.Sleep(100 * time.Millisecond)
	cfg := config(my, db+".t")
	cfg.User, cfg.Password = "nolock", "nolock-pass"
	cfg.SnapshotWorkers = 3
	r := start(t, cfg, nil, nil)
	r.out.waitFor(t, "streaming", 60*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpUpdate)+countOp(cs, sluice.OpInsert) > 0 })
	time.Sleep(200 * time.Millisecond)
	stop()
	w.Wait()
	tg := newTarget()
	applied := 0
	converge(t, r.out, tg, &applied, sqldb, "`t`")
}
