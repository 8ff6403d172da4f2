// Package mysqlsource benchmarks the MySQL/MariaDB source on a
// sysbench-style table (id INT PRIMARY KEY, k INT, c CHAR(120), pad
// CHAR(60)) in a private MariaDB it starts itself:
//
//   - snapshot read rate (rows/s) of the source's initial sync;
//   - binlog streaming rate (changes/s) of the source over the binlog the
//     table's load produced, printed beside the rate of go-mysql's raw
//     BinlogSyncer decoding the same binlog with no processing;
//   - the peak RSS of each phase.
//
// Run it with `go test ./bench/mysqlsource -run TestBench -v` (1,000,000
// rows; BENCH_ROWS overrides) or from the bench main via Run.
package mysqlsource

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	_ "github.com/go-sql-driver/mysql" // database/sql driver

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/source/mysql"
)

// Options sizes the benchmark.
type Options struct {
	// Rows in the table (default 1,000,000).
	Rows int
	// Batch is the number of rows per loading transaction (default 1000,
	// so the binlog has many sysbench-like multi-row transactions).
	Batch int
	// Workers is the source's SnapshotWorkers (default 2).
	Workers int
}

// Run runs the benchmark with the default options and writes a report to w.
func Run(ctx context.Context, w io.Writer) error { return RunWith(ctx, w, Options{}) }

// Result holds the measured numbers.
type Result struct {
	Rows                    int
	SnapshotRowsPerSec      float64
	ScanRowsPerSec          float64 // one plain SELECT * scanned into sql.RawBytes
	StreamPerSec, RawPerSec float64
	// Rows per CPU-second of this process (user+sys), which the machine's
	// other load disturbs far less than wall-clock rates.
	StreamPerCPUSec, RawPerCPUSec  float64
	SnapshotPeakRSS, StreamPeakRSS int64 // bytes
	RawPeakRSS                     int64
}

// RunWith runs the benchmark and writes a report to w.
func RunWith(ctx context.Context, w io.Writer, o Options) error {
	_, err := Measure(ctx, w, o)
	return err
}

// Measure runs the benchmark, writes a report to w and returns the numbers.
func Measure(ctx context.Context, w io.Writer, o Options) (*Result, error) {
	if o.Rows == 0 {
		o.Rows = 1000000
	}
	if o.Batch == 0 {
		o.Batch = 1000
	}
	if o.Workers == 0 {
		o.Workers = 2
	}
	srv, err := testenv.StartMariaDB(ctx, testenv.MariaDBOptions{})
	if err != nil {
		return nil, fmt.Errorf("starting MariaDB: %w", err)
	}
	defer srv.Close()
	my := srv.MySQL()
	db, err := sql.Open("mysql", my.DSN(""))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	file, pos, err := masterStatus(db)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "mysql source benchmark: %d sysbench-style rows, %d rows per loading transaction, %d cores\n", o.Rows, o.Batch, runtime.NumCPU())
	t0 := time.Now()
	if err := load(db, o); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "loaded in %s\n", time.Since(t0).Round(time.Millisecond))
	res := &Result{Rows: o.Rows}

	// Snapshot.
	resetPeakRSS()
	res.SnapshotRowsPerSec, err = snapshotRate(ctx, my, o)
	if err != nil {
		return nil, err
	}
	res.SnapshotPeakRSS = peakRSS()
	res.ScanRowsPerSec, err = scanRate(ctx, db)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "snapshot:  %10.0f rows/s    (goal >= 150000; one plain SELECT * into sql.RawBytes: %.0f rows/s)   peak RSS %d MiB\n",
		res.SnapshotRowsPerSec, res.ScanRowsPerSec, res.SnapshotPeakRSS>>20)

	// Raw go-mysql decode of the same binlog, then the source over it; the
	// best of two alternating runs each, since the machine is shared.
	for i := 0; i < 2; i++ {
		runtime.GC()
		resetPeakRSS()
		c0 := cpuTime()
		raw, err := rawRate(ctx, my, file, pos, o.Rows)
		if err != nil {
			return nil, err
		}
		res.RawPerSec = max(res.RawPerSec, raw)
		res.RawPerCPUSec = max(res.RawPerCPUSec, float64(o.Rows)/(cpuTime()-c0).Seconds())
		res.RawPeakRSS = max(res.RawPeakRSS, peakRSS())
		runtime.GC()
		resetPeakRSS()
		c0 = cpuTime()
		st, err := streamRate(ctx, my, file, pos, o)
		if err != nil {
			return nil, err
		}
		res.StreamPerSec = max(res.StreamPerSec, st)
		res.StreamPerCPUSec = max(res.StreamPerCPUSec, float64(o.Rows)/(cpuTime()-c0).Seconds())
		res.StreamPeakRSS = max(res.StreamPeakRSS, peakRSS())
	}
	fmt.Fprintf(w, "binlog:    %10.0f changes/s  raw go-mysql BinlogSyncer %10.0f rows/s  = %.0f%% (goal >= 80%%)   peak RSS %d MiB (raw %d MiB)\n",
		res.StreamPerSec, res.RawPerSec, 100*res.StreamPerSec/res.RawPerSec, res.StreamPeakRSS>>20, res.RawPeakRSS>>20)
	fmt.Fprintf(w, "binlog per CPU-second of this process: %10.0f changes  raw %10.0f rows  = %.0f%%\n",
		res.StreamPerCPUSec, res.RawPerCPUSec, 100*res.StreamPerCPUSec/res.RawPerCPUSec)
	return res, nil
}

func masterStatus(db *sql.DB) (string, uint32, error) {
	var file string
	var pos uint32
	var a, b sql.NullString
	if err := db.QueryRow("SHOW MASTER STATUS").Scan(&file, &pos, &a, &b); err != nil {
		return "", 0, fmt.Errorf("SHOW MASTER STATUS: %w", err)
	}
	return file, pos, nil
}

func load(db *sql.DB, o Options) error {
	for _, q := range []string{
		"CREATE DATABASE `sbtest`",
		"CREATE TABLE `sbtest`.`sbtest1` (`id` INT NOT NULL PRIMARY KEY, `k` INT NOT NULL DEFAULT 0, `c` CHAR(120) NOT NULL DEFAULT '', `pad` CHAR(60) NOT NULL DEFAULT '', KEY `k_1` (`k`)) ENGINE=InnoDB",
	} {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	// sysbench's c and pad: groups of 11 digits separated by '-'.
	c := "CONCAT_WS('-', " + strings.Repeat("LPAD(FLOOR(RAND()*99999999999), 11, '0'), ", 9) + "LPAD(FLOOR(RAND()*99999999999), 11, '0'))"
	pad := "CONCAT_WS('-', " + strings.Repeat("LPAD(FLOOR(RAND()*99999999999), 11, '0'), ", 4) + "LPAD(FLOOR(RAND()*99999999999), 11, '0'))"
	for lo := 1; lo <= o.Rows; lo += o.Batch {
		hi := min(lo+o.Batch-1, o.Rows)
		q := fmt.Sprintf("INSERT INTO `sbtest`.`sbtest1` SELECT seq, FLOOR(RAND()*%d), %s, %s FROM `sbtest`.`seq_%d_to_%d`", o.Rows, c, pad, lo, hi)
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("loading rows %d..%d: %w", lo, hi, err)
		}
	}
	_, err := db.Exec("ANALYZE TABLE `sbtest`.`sbtest1`")
	return err
}

// counter is an Emitter that counts and stops the run at a target.
type counter struct {
	rows   atomic.Int64
	target int64
	op     sluice.Op
	done   chan struct{}
	closed atomic.Bool
	first  atomic.Int64 // unix nanos of the first counted change
}

var errDone = errors.New("benchmark target reached")

func (c *counter) Emit(ch sluice.Change) error {
	if ch.Op != c.op {
		return nil
	}
	n := c.rows.Add(1)
	if n == 1 {
		c.first.Store(time.Now().UnixNano())
	}
	if n >= c.target {
		if c.closed.CompareAndSwap(false, true) {
			close(c.done)
		}
		return errDone
	}
	return nil
}

func (c *counter) Progress(sluice.Progress) {}

func config(my *testenv.MySQL, o Options) mysql.Config {
	return mysql.Config{Addr: my.Addr(), User: my.User, Password: my.Password, Tables: []string{"sbtest.sbtest1"},
		SnapshotWorkers: o.Workers, ServerID: 4242}
}

func snapshotRate(ctx context.Context, my *testenv.MySQL, o Options) (float64, error) {
	src, err := mysql.New(config(my, o))
	if err != nil {
		return 0, err
	}
	defer src.Close()
	c := &counter{target: int64(o.Rows), op: sluice.OpRead, done: make(chan struct{})}
	start := time.Now()
	err = src.Run(ctx, nil, c)
	if !errors.Is(err, errDone) {
		return 0, fmt.Errorf("snapshot run: %v (read %d rows)", err, c.rows.Load())
	}
	return float64(c.rows.Load()) / time.Since(start).Seconds(), nil
}

func streamRate(ctx context.Context, my *testenv.MySQL, file string, pos uint32, o Options) (float64, error) {
	cfg := config(my, o)
	cfg.StartMode, cfg.StartFile, cfg.StartOffset = mysql.StartFilePos, file, pos
	src, err := mysql.New(cfg)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	c := &counter{target: int64(o.Rows), op: sluice.OpInsert, done: make(chan struct{})}
	start := time.Now()
	err = src.Run(ctx, nil, c)
	if !errors.Is(err, errDone) {
		return 0, fmt.Errorf("stream run: %v (%d changes)", err, c.rows.Load())
	}
	return float64(c.rows.Load()) / time.Since(start).Seconds(), nil
}

// rawRate decodes the binlog with go-mysql's BinlogSyncer alone (rows parsed,
// nothing else done) until n rows were seen.
func rawRate(ctx context.Context, my *testenv.MySQL, file string, pos uint32, n int) (float64, error) {
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 4343, Flavor: gomysql.MariaDBFlavor, Host: my.Host, Port: uint16(my.Port),
		User: my.User, Password: my.Password, ParseTime: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	defer syncer.Close()
	start := time.Now()
	st, err := syncer.StartSync(gomysql.Position{Name: file, Pos: pos})
	if err != nil {
		return 0, err
	}
	rows := 0
	for rows < n {
		ev, err := st.GetEvent(ctx)
		if err != nil {
			return 0, err
		}
		if re, ok := ev.Event.(*replication.RowsEvent); ok && string(re.Table.Table) == "sbtest1" {
			rows += len(re.Rows)
		}
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM (Linux: write 5 to clear_refs).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) } //nolint:errcheck // best effort

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// scanRate reads the whole table with one plain query, no conversion.
func scanRate(ctx context.Context, db *sql.DB) (float64, error) {
	start := time.Now()
	rows, err := db.QueryContext(ctx, "SELECT `id`, `k`, `c`, `pad` FROM `sbtest`.`sbtest1`")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var a, b, c, d sql.RawBytes
	n := 0
	for rows.Next() {
		if err := rows.Scan(&a, &b, &c, &d); err != nil {
			return 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
