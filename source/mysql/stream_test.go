package mysql_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/source/mysql"
)

// killDumps kills the server's binlog dump threads (a network drop).
func killDumps(t *testing.T, my *testenv.MySQL) int {
	t.Helper()
	db := my.DB(t, "")
	rows, err := db.Query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		db.Exec(fmt.Sprintf("KILL %d", id))
	}
	return len(ids)
}

// TestReconnectMidTransaction (S1): the binlog connection drops while a
// large transaction is being delivered; after the reconnect every row of
// it arrives exactly once, and only its last change carries a Pos.
func TestReconnectMidTransaction(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY, `v` VARCHAR(20))")
	cfg := config(my, db+".t")
	cfg.StartMode = mysql.StartNow
	out := &collector{}
	r := start(t, cfg, nil, out)
	out.waitFor(t, "streaming", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpHeartbeat) > 0 })

	const n = 3000
	var vals []string
	for i := 1; i <= n; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'v%d')", i, i))
	}
	out.mu.Lock()
	out.delay = 500 * time.Microsecond // ~1.5s+ for the transaction
	out.mu.Unlock()
	my.Exec(t, db, "BEGIN; INSERT INTO `t` VALUES "+strings.Join(vals, ",")+"; COMMIT")
	my.Exec(t, db, "INSERT INTO `t` VALUES (0, 'after')")
	out.waitFor(t, "part of the transaction", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) > 300 })
	if killDumps(t, my) == 0 {
		t.Fatal("no binlog dump thread to kill")
	}
	if got := countOp(out.snapshot(), sluice.OpInsert); got >= n {
		t.Fatalf("the transaction was delivered before the drop (%d rows); make it bigger", got)
	}
	out.mu.Lock()
	out.delay = 0
	out.mu.Unlock()
	cs := out.waitFor(t, "the row after the transaction", 60*time.Second, func(cs []sluice.Change) bool {
		for _, c := range cs {
			if c.Op == sluice.OpInsert && c.After[0] == int64(0) {
				return true
			}
		}
		return false
	})
	seen := map[int64]int{}
	var ins []sluice.Change
	for _, c := range cs {
		if c.Op == sluice.OpInsert {
			ins = append(ins, c)
			seen[c.After[0].(int64)]++
		}
	}
	if len(ins) != n+1 {
		t.Errorf("%d inserts, want %d", len(ins), n+1)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("row %d delivered %d times", id, k)
		}
	}
	for i, c := range ins[:n] {
		if (c.Pos != nil) != (i == n-1) {
			t.Errorf("insert %d of the transaction: Pos set = %v", i, c.Pos != nil)
		}
	}
	if err := r.stop(); err != nil && err.Error() != "context canceled" {
		t.Errorf("Run: %v", err)
	}
}

// TestHeartbeat (S1, P5): an idle source keeps emitting heartbeats with a
// current Time and a resumable Pos; changes to unselected tables advance
// the position without emitting rows.
func TestHeartbeat(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY)", "CREATE TABLE `other` (`id` INT PRIMARY KEY)")
	cfg := config(my, db+".t")
	cfg.StartMode = mysql.StartNow
	r := start(t, cfg, nil, nil)
	cs := r.out.waitFor(t, "3 heartbeats", 10*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpHeartbeat) >= 3 })
	for _, c := range cs {
		if c.Op != sluice.OpHeartbeat {
			t.Fatalf("unexpected %s on an idle source", c.Op)
		}
		if c.Pos == nil || time.Since(c.Time) > 10*time.Second {
			t.Errorf("heartbeat without Pos or with stale Time %s", c.Time)
		}
	}
	first := fileOffset(cs[0].Pos)
	for i := 0; i < 5; i++ {
		my.Exec(t, db, fmt.Sprintf("INSERT INTO `other` VALUES (%d)", i))
		time.Sleep(100 * time.Millisecond)
	}
	cs = r.out.waitFor(t, "position advancing", 10*time.Second, func(cs []sluice.Change) bool {
		return fileOffset(cs[len(cs)-1].Pos) != first
	})
	if n := countOp(cs, sluice.OpInsert); n != 0 {
		t.Errorf("%d inserts from an unselected table", n)
	}
}

func fileOffset(p sluice.Position) string {
	s := string(p)
	i := strings.Index(s, `"file"`)
	j := strings.Index(s, `"gtid"`)
	if i < 0 || j < i {
		return s
	}
	return s[i:j]
}

// TestServerRestart (S1, P6): the server stops and comes back while the
// source streams; within the retry window it reconnects at the last
// transaction boundary and every transaction arrives exactly once, in
// order.
func TestServerRestart(t *testing.T) {
	srv := testenv.NewMariaDB(t, testenv.MariaDBOptions{})
	my := srv.MySQL()
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY)")
	cfg := config(my, db+".t")
	cfg.RetryWindow = time.Minute
	r := start(t, cfg, nil, nil)
	r.out.waitFor(t, "streaming", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpHeartbeat) > 0 })
	for i := 1; i <= 50; i++ {
		my.Exec(t, db, fmt.Sprintf("INSERT INTO `t` VALUES (%d)", i))
	}
	r.out.waitFor(t, "50 inserts", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) >= 50 })
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 51; i <= 100; i++ {
		my.Exec(t, db, fmt.Sprintf("INSERT INTO `t` VALUES (%d)", i))
	}
	r.out.waitFor(t, "100 inserts", 60*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) >= 100 })
	time.Sleep(300 * time.Millisecond)
	cs := r.out.snapshot()
	next := int64(1)
	for _, c := range cs {
		if c.Op == sluice.OpInsert {
			if c.After[0] != next {
				t.Fatalf("insert %v, want id %d (order, no loss, no repeat)", c.After[0], next)
			}
			if c.Pos == nil {
				t.Errorf("single-row transaction %d without Pos", next)
			}
			next++
		}
	}
	if next != 101 {
		t.Errorf("got %d inserts, want 100", next-1)
	}
}

// TestSelection (S6): patterns, whole databases and exclusions.
func TestSelection(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	db2 := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `a1` (`id` INT PRIMARY KEY)", "CREATE TABLE `a2` (`id` INT PRIMARY KEY)", "CREATE TABLE `b1` (`id` INT PRIMARY KEY)",
		"CREATE TABLE `we ird``name` (`sp ace` INT, `ü` INT, PRIMARY KEY (`sp ace`, `ü`))")
	my.Exec(t, db2, "CREATE TABLE `x` (`id` INT PRIMARY KEY)", "CREATE TABLE `y` (`id` INT PRIMARY KEY)")
	cfg := config(my, db+".a*", db+".b1", db+".we ird`name", db2)
	cfg.Exclude = []string{db + ".a2", db2 + ".y"}
	src, err := mysql.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range tables {
		got = append(got, tb.ID.String())
	}
	want := []string{db + ".a1", db + ".b1", db + ".we ird`name", db2 + ".x"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("Tables = %v, want %v", got, want)
	}
	if k := tables[2].KeyNames(); len(k) != 2 || k[0] != "sp ace" || k[1] != "ü" {
		t.Errorf("composite key = %v", k)
	}
	// Odd identifiers and a composite key go through snapshot and stream (N2).
	my.Exec(t, db, "INSERT INTO `we ird``name` VALUES (1, 1), (1, 2), (2, 1)")
	cfg.ChunkSize = 1
	r := start(t, cfg, nil, nil)
	r.out.waitFor(t, "3 snapshot rows", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpRead) == 3 })
	my.Exec(t, db, "UPDATE `we ird``name` SET `ü` = 5 WHERE `sp ace` = 2", "INSERT INTO `"+db2+"`.`y` VALUES (1)", "INSERT INTO `"+db2+"`.`x` VALUES (1)")
	cs := r.out.waitFor(t, "update and insert", 30*time.Second, func(cs []sluice.Change) bool {
		return countOp(cs, sluice.OpUpdate) == 1 && countOp(cs, sluice.OpInsert) == 1
	})
	for _, c := range cs {
		if c.Op == sluice.OpInsert && c.Table.ID.Name != "x" {
			t.Errorf("insert into excluded table %s", c.Table.ID)
		}
	}
}

// TestResumeByGTID (S1): a position resumes by its GTID set as exactly as by
// file and offset.
func TestResumeByGTID(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY)")
	cfg := config(my, db+".t")
	cfg.ResumeByGTID = true
	r := start(t, cfg, nil, nil)
	r.out.waitFor(t, "streaming", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpHeartbeat) > 0 })
	for i := 1; i <= 5; i++ {
		my.Exec(t, db, fmt.Sprintf("INSERT INTO `t` VALUES (%d), (%d)", 2*i, 2*i+1))
	}
	cs := r.out.waitFor(t, "5 transactions", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) >= 10 })
	r.stop()
	var pos sluice.Position
	for _, c := range cs {
		if c.Op == sluice.OpInsert && c.After[0] == int64(7) {
			pos = c.Pos
		}
	}
	if pos == nil || !strings.Contains(string(pos), `"gtid":"0-1-`) {
		t.Fatalf("transaction 3 ends without a GTID position: %s", pos)
	}
	r2 := start(t, cfg, pos, nil)
	r2.out.waitFor(t, "transactions 4 and 5", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) >= 4 })
	time.Sleep(200 * time.Millisecond)
	var ids []any
	for _, c := range r2.out.snapshot() {
		if c.Op == sluice.OpInsert {
			ids = append(ids, c.After[0])
		}
	}
	if fmt.Sprint(ids) != "[8 9 10 11]" {
		t.Fatalf("resumed by GTID: ids %v, want [8 9 10 11]", ids)
	}
}

// TestSlowSink (S1, N3): Emit blocking far longer than the heartbeat period
// (a paused pipeline) is back-pressure, not a dead connection: the source
// neither fails nor repeats anything.
func TestSlowSink(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY)")
	cfg := config(my, db+".t")
	cfg.StartMode = mysql.StartNow
	cfg.RetryWindow = time.Second
	out := &collector{}
	r := start(t, cfg, nil, out)
	out.waitFor(t, "streaming", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpHeartbeat) > 0 })
	out.mu.Lock()
	out.delay = 7 * time.Second // longer than the stall detection (3 × 200ms + 5s)
	out.mu.Unlock()
	time.Sleep(300 * time.Millisecond) // let an Emit start blocking
	out.mu.Lock()
	out.delay = 0
	out.mu.Unlock()
	// 400 transactions (1,600 events) while Emit is still blocked: more
	// than the decoded-event buffer, so the reader stalls too.
	sqldb := my.DB(t, db)
	for i := 1; i <= 400; i++ {
		if _, err := sqldb.Exec(fmt.Sprintf("INSERT INTO `t` VALUES (%d)", i)); err != nil {
			t.Fatal(err)
		}
	}
	out.waitFor(t, "400 inserts after the stall", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) >= 400 })
	time.Sleep(500 * time.Millisecond)
	if n := countOp(out.snapshot(), sluice.OpInsert); n != 400 {
		t.Errorf("%d inserts, want 400", n)
	}
	select {
	case err := <-r.done:
		r.done <- err
		t.Fatalf("Run ended during back-pressure: %v", err)
	default:
	}
}

// TestStartModes (S1): StartFilePos and StartGTID begin exactly after the
// given position.
func TestStartModes(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY)", "INSERT INTO `t` VALUES (1)")
	sqldb := my.DB(t, "")
	var file string
	var off uint32
	var x, y any
	if err := sqldb.QueryRow("SHOW MASTER STATUS").Scan(&file, &off, &x, &y); err != nil {
		t.Fatal(err)
	}
	var gtid string
	if err := sqldb.QueryRow("SELECT @@gtid_binlog_pos").Scan(&gtid); err != nil {
		t.Fatal(err)
	}
	my.Exec(t, db, "INSERT INTO `t` VALUES (2)", "INSERT INTO `t` VALUES (3)")
	for _, mode := range []mysql.StartMode{mysql.StartFilePos, mysql.StartGTID} {
		cfg := config(my, db+".t")
		cfg.StartMode, cfg.StartFile, cfg.StartOffset, cfg.StartGTID = mode, file, off, gtid
		r := start(t, cfg, nil, nil)
		r.out.waitFor(t, "2 inserts", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpInsert) >= 2 })
		time.Sleep(200 * time.Millisecond)
		var ids []any
		for _, c := range r.out.snapshot() {
			if c.Op.IsRow() {
				ids = append(ids, c.After[0])
			}
		}
		if fmt.Sprint(ids) != "[2 3]" {
			t.Errorf("start mode %d: rows %v, want [2 3]", mode, ids)
		}
		r.stop()
	}
}

// TestServerGone (P6): a server that stays away longer than RetryWindow
// ends Run with a clear error naming the server and the window.
func TestServerGone(t *testing.T) {
	srv := testenv.NewMariaDB(t, testenv.MariaDBOptions{})
	my := srv.MySQL()
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY)")
	cfg := config(my, db+".t")
	cfg.StartMode = mysql.StartNow
	cfg.RetryWindow = 2 * time.Second
	r := start(t, cfg, nil, nil)
	r.out.waitFor(t, "streaming", 30*time.Second, func(cs []sluice.Change) bool { return countOp(cs, sluice.OpHeartbeat) > 0 })
	stopped := time.Now()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Start(context.Background()) }) // for the database cleanup
	select {
	case err := <-r.done:
		r.done <- err
		if err == nil || !strings.Contains(err.Error(), my.Addr()) || !strings.Contains(err.Error(), "retry window 2s") {
			t.Fatalf("want a failure naming the server and the window, got %v", err)
		}
		if d := time.Since(stopped); d < 2*time.Second {
			t.Errorf("gave up after %s, inside the retry window", d)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not give up")
	}
}
