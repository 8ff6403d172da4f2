// Package mysqlpg benchmarks MySQL→PostgreSQL replication (issue 4) on a
// private MariaDB and PostgreSQL it starts itself, with sysbench as the
// workload and pgloader as the peer:
//
//   - full load of a sysbench table (default 2,000,000 rows) by Sluice, and
//     by pgloader into a fresh database in the same run: rows/s and ratio;
//   - catch-up: a backlog of sysbench oltp_write_only row changes (default
//     1,000,000) written while the pipeline is stopped, then applied;
//   - live: sysbench oltp_write_only at its max rate while the pipeline
//     applies; applied changes/s, and the end-to-end lag measured by a probe
//     row inserted every 50 ms and looked for in PostgreSQL (binlog
//     timestamps have one-second resolution, so the probe is the honest
//     measure), p50/p99 per half of the run to show whether lag grows;
//   - the peak RSS of each Sluice phase and of pgloader (each runs in its
//     own process; getrusage of the child).
//
// Sluice phases run in a child process: the bench binary re-executes itself
// with SLUICE_BENCH_CHILD set; the main function must call Child first.
package mysqlpg

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql" // database/sql driver for the probe
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/pipeline"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/postgres"
	"github.com/sluicecdc/sluice/source/mysql"
)

// Options sizes the benchmark; zero fields take the sizes.
type Options struct {
	Rows        int           // sysbench table size for the full load
	Changes     int           // backlog of row changes for the catch-up
	LiveFor     time.Duration // how long sysbench runs in the live phase
	SkipPeer    bool          // do not run pgloader
	SysbenchThr int           // sysbench threads
}

func (o *Options) defaults() {
	if o.Rows == 0 {
		o.Rows = 2000000
	}
	if o.Changes == 0 {
		o.Changes = 1000000
	}
	if o.LiveFor == 0 {
		o.LiveFor = 30 * time.Second
	}
	if o.SysbenchThr == 0 {
		o.SysbenchThr = 4
	}
}

const childEnv = "SLUICE_BENCH_CHILD"

// childResult is what a child phase prints as its last JSON line.
type childResult struct {
	Rows, Changes int64
	Seconds       float64
	Err           string
}

// Run runs the benchmark and writes the report to w.
func Run(ctx context.Context, w io.Writer, o Options) error {
	o.defaults()
	for _, bin := range []string{"sysbench", "pgloader"} {
		if _, err := exec.LookPath(bin); err != nil && !(bin == "pgloader" && o.SkipPeer) {
			return fmt.Errorf("mysqlpg: %s not found: run `apt-get install -y sysbench pgloader` (make bench does)", bin)
		}
	}
	my, err := testenv.StartMariaDB(ctx, testenv.MariaDBOptions{})
	if err != nil {
		return err
	}
	defer my.Close()
	pg, err := testenv.StartPostgres(ctx, testenv.PostgresOptions{})
	if err != nil {
		return err
	}
	defer pg.Close()
	m, pc := my.MySQL(), pg.Postgres()
	root, err := sql.Open("mysql", m.RootDSN(""))
	if err != nil {
		return err
	}
	defer root.Close()
	for _, q := range []string{"CREATE DATABASE sbtest", "CREATE TABLE sbtest.probe (id INT PRIMARY KEY, t BIGINT NOT NULL)"} {
		if _, err := root.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mysqlpg: %s: %w", q, err)
		}
	}
	admin, err := pgxpool.New(ctx, pc.ConnString("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close()
	for _, db := range []string{"sluice", "pgl"} {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "== MySQL → PostgreSQL (MariaDB 10.11 → PostgreSQL 15, private servers, %d cores) ==\n", runtime.NumCPU())
	t0 := time.Now()
	if err := sysbench(ctx, m, o, "prepare", "--table-size="+strconv.Itoa(o.Rows)); err != nil {
		return err
	}
	fmt.Fprintf(w, "sysbench prepare: %d rows in %.1f s\n\n", o.Rows, time.Since(t0).Seconds())

	env := []string{childEnv + "=1", "MP_ADDR=" + m.Addr(), "MP_USER=" + m.User, "MP_PASSWORD=" + m.Password,
		"MP_PG=" + pc.ConnString("sluice")}

	// 1. Full load.
	load, rss, err := child(ctx, env, "load", strconv.Itoa(o.Rows), nil, nil)
	if err != nil {
		return err
	}
	sluiceRate := float64(load.Rows) / load.Seconds
	fmt.Fprintf(w, "Full load of %d rows (sbtest1 + probe)\n", load.Rows)
	fmt.Fprintf(w, "  sluice    %6.1f s  %9.0f rows/s  peak RSS %4d MB\n", load.Seconds, sluiceRate, rss>>20)
	if !o.SkipPeer {
		secs, prss, err := pgloader(ctx, m, pc)
		if err != nil {
			return err
		}
		peerRate := float64(o.Rows) / secs
		fmt.Fprintf(w, "  pgloader  %6.1f s  %9.0f rows/s  peak RSS %4d MB\n", secs, peerRate, prss>>20)
		fmt.Fprintf(w, "  ratio     %.2f× pgloader (goal ≥ 2×)\n", sluiceRate/peerRate)
	}

	// 2. Catch-up: a backlog written while the pipeline is stopped.
	events := o.Changes / 4 // oltp_write_only: 2 updates + 1 delete + 1 insert per event
	t0 = time.Now()
	if err := sysbench(ctx, m, o, "run", "--events="+strconv.Itoa(events), "--time=0"); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nCatch-up: backlog of %d sysbench events (≈%d row changes) written in %.1f s while stopped\n", events, 4*events, time.Since(t0).Seconds())
	cu, rss, err := child(ctx, env, "catchup", strconv.Itoa(4*events), nil, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  sluice    %6.1f s  %9.0f changes/s (goal ≥ 50,000)  peak RSS %4d MB\n", cu.Seconds, float64(cu.Changes)/cu.Seconds, rss>>20)

	// 3. Live.
	fmt.Fprintf(w, "\nLive: sysbench oltp_write_only, %d threads, max rate, %s\n", o.SysbenchThr, o.LiveFor)
	return live(ctx, w, env, m, pc, o)
}

func sysbench(ctx context.Context, m *testenv.MySQL, o Options, cmd string, extra ...string) error {
	args := append([]string{"oltp_write_only", "--db-driver=mysql", "--mysql-host=127.0.0.1",
		"--mysql-port=" + strconv.Itoa(m.Port), "--mysql-user=" + m.User, "--mysql-password=" + m.Password,
		"--mysql-db=sbtest", "--tables=1", "--threads=" + strconv.Itoa(o.SysbenchThr), "--report-interval=0"}, extra...)
	args = append(args, cmd)
	c := exec.CommandContext(ctx, "sysbench", args...)
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("mysqlpg: sysbench %s: %w\n%s", cmd, err, out)
	}
	return nil
}

func pgloader(ctx context.Context, m *testenv.MySQL, pc *testenv.PostgresConn) (float64, int64, error) {
	src := fmt.Sprintf("mysql://%s:%s@127.0.0.1:%d/sbtest", m.User, m.Password, m.Port)
	dst := fmt.Sprintf("postgresql://%s:%s@127.0.0.1:%d/pgl", pc.User, pc.Password, pc.Port)
	c := exec.CommandContext(ctx, "pgloader", "--quiet", src, dst)
	start := time.Now()
	out, err := c.CombinedOutput()
	secs := time.Since(start).Seconds()
	if err != nil {
		return 0, 0, fmt.Errorf("mysqlpg: pgloader failed: %w\n%s", err, out)
	}
	return secs, maxRSS(c.ProcessState), nil
}

func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // kilobytes on Linux
	}
	return 0
}

// child runs one Sluice phase in a child process and returns its result
// and peak RSS. The child's stdin closes when stop is closed (nil: never;
// the live phase runs until then). Its progress lines go to lines, if set.
func child(ctx context.Context, env []string, phase, arg string, stop <-chan struct{}, lines chan<- string) (childResult, int64, error) {
	if lines != nil {
		defer close(lines)
	}
	exe, err := os.Executable()
	if err != nil {
		return childResult{}, 0, err
	}
	c := exec.CommandContext(ctx, exe)
	c.Env = append(os.Environ(), append(env, "MP_PHASE="+phase, "MP_ARG="+arg)...)
	c.Stderr = os.Stderr
	stdin, _ := c.StdinPipe()
	stdout, _ := c.StdoutPipe()
	if err := c.Start(); err != nil {
		return childResult{}, 0, err
	}
	defer stdin.Close()
	if stop != nil {
		go func() { <-stop; stdin.Close() }()
	}
	var last string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "{") {
			last = l
		} else if lines != nil {
			lines <- l
		}
	}
	if err := c.Wait(); err != nil {
		return childResult{}, 0, fmt.Errorf("mysqlpg: %s phase: %w", phase, err)
	}
	var r childResult
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		return r, 0, fmt.Errorf("mysqlpg: %s phase printed no result (%q)", phase, last)
	}
	if r.Err != "" {
		return r, 0, fmt.Errorf("mysqlpg: %s phase: %s", phase, r.Err)
	}
	return r, maxRSS(c.ProcessState), nil
}

// IsChild reports whether this process is a benchmark child phase.
func IsChild() bool { return os.Getenv(childEnv) != "" }

// Child runs the phase named in the environment and returns the exit code.
func Child() int {
	r := runPhase(os.Getenv("MP_PHASE"), os.Getenv("MP_ARG"))
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	if r.Err != "" {
		return 1
	}
	return 0
}

func runPhase(phase, arg string) childResult {
	target, _ := strconv.ParseInt(arg, 10, 64)
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src, err := mysql.New(mysql.Config{Addr: os.Getenv("MP_ADDR"), User: os.Getenv("MP_USER"), Password: os.Getenv("MP_PASSWORD"),
		Tables: []string{"sbtest.*"}, ServerID: 7001, Logger: logger})
	if err != nil {
		return childResult{Err: err.Error()}
	}
	dst, err := postgres.New(ctx, postgres.Config{ConnString: os.Getenv("MP_PG"), Logger: logger})
	if err != nil {
		return childResult{Err: err.Error()}
	}
	p, err := pipeline.New(pipeline.Config{Name: "bench", Source: src, Sinks: []sink.Sink{dst}, Logger: logger})
	if err != nil {
		return childResult{Err: err.Error()}
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	finished := func() bool {
		st := p.Stats()
		switch phase {
		case "load":
			if len(st.Snapshot) == 0 {
				return false
			}
			for _, t := range st.Snapshot {
				if !t.Done {
					return false
				}
			}
			return st.Rows >= target
		case "catchup":
			return st.Changes >= target
		}
		return false
	}
	if phase == "live" {
		// Report stats every 100 ms until stdin closes.
		eof := make(chan struct{})
		go func() { io.Copy(io.Discard, os.Stdin); close(eof) }()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
	loop:
		for {
			select {
			case <-eof:
				break loop
			case err := <-done:
				return childResult{Err: fmt.Sprint("pipeline ended: ", err)}
			case <-t.C:
				st := p.Stats()
				fmt.Printf("stats %d %d\n", time.Since(start).Milliseconds(), st.Changes)
			}
		}
	} else {
		for !finished() {
			select {
			case err := <-done:
				return childResult{Err: fmt.Sprint("pipeline ended early: ", err)}
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	secs := time.Since(start).Seconds()
	st := p.Stats()
	p.Stop()
	if err := <-done; err != nil {
		return childResult{Err: err.Error()}
	}
	return childResult{Rows: st.Rows, Changes: st.Changes, Seconds: secs}
}

// live runs sysbench at max rate while a child pipeline applies, and
// measures applied changes/s and probe lag.
func live(ctx context.Context, w io.Writer, env []string, m *testenv.MySQL, pc *testenv.PostgresConn, o Options) error {
	my, err := sql.Open("mysql", m.DSN("sbtest"))
	if err != nil {
		return err
	}
	defer my.Close()
	pool, err := pgxpool.New(ctx, pc.ConnString("sluice"))
	if err != nil {
		return err
	}
	defer pool.Close()

	lines := make(chan string, 1024)
	type res struct {
		r   childResult
		rss int64
		err error
	}
	resc := make(chan res, 1)
	// The child ends when its stdin closes: give it a pipe we close later.
	stop := make(chan struct{})
	go func() {
		r, rss, err := child(ctx, env, "live", "0", stop, lines)
		resc <- res{r, rss, err}
	}()
	var mu sync.Mutex
	var samples [][2]int64 // (ms since start, applied changes)
	go func() {
		for l := range lines {
			var ms, n int64
			if _, err := fmt.Sscanf(l, "stats %d %d", &ms, &n); err == nil {
				mu.Lock()
				samples = append(samples, [2]int64{ms, n})
				mu.Unlock()
			}
		}
	}()
	time.Sleep(3 * time.Second) // let the pipeline start and catch up

	// Probe: insert (id, wall clock) every 50 ms; poll PostgreSQL every 10 ms.
	probeCtx, stopProbe := context.WithCancel(ctx)
	var pmu sync.Mutex
	sent := map[int]time.Time{}
	var lags []struct {
		at  time.Duration
		lag time.Duration
	}
	liveStart := time.Now()
	var pwg sync.WaitGroup
	pwg.Add(2)
	go func() {
		defer pwg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for id := 1; ; id++ {
			select {
			case <-probeCtx.Done():
				return
			case <-t.C:
			}
			now := time.Now()
			if _, err := my.ExecContext(probeCtx, "INSERT INTO probe VALUES (?, ?)", id, now.UnixNano()); err == nil {
				pmu.Lock()
				sent[id] = now
				pmu.Unlock()
			}
		}
	}()
	go func() {
		defer pwg.Done()
		seen := 0
		q := `SELECT coalesce(max(id),0) FROM ` + pgx.Identifier{"sbtest", "probe"}.Sanitize()
		for probeCtx.Err() == nil {
			var max int
			if err := pool.QueryRow(probeCtx, q).Scan(&max); err == nil && max > seen {
				now := time.Now()
				pmu.Lock()
				for id := seen + 1; id <= max; id++ {
					if t, ok := sent[id]; ok {
						lags = append(lags, struct {
							at  time.Duration
							lag time.Duration
						}{t.Sub(liveStart), now.Sub(t)})
					}
				}
				pmu.Unlock()
				seen = max
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	mu.Lock()
	base := samples[len(samples)-1]
	mu.Unlock()
	sbStart := time.Now()
	sbErr := sysbench(ctx, m, o, "run", "--time="+strconv.Itoa(int(o.LiveFor.Seconds())), "--events=0")
	sbSecs := time.Since(sbStart).Seconds()
	mu.Lock()
	end := samples[len(samples)-1]
	mu.Unlock()
	time.Sleep(2 * time.Second) // let the last probes arrive
	stopProbe()
	pwg.Wait()
	close(stop)
	r := <-resc
	if sbErr != nil {
		return sbErr
	}
	if r.err != nil {
		return r.err
	}
	applied := float64(end[1]-base[1]) / (float64(end[0]-base[0]) / 1000)
	fmt.Fprintf(w, "  sysbench ran %.1f s\n", sbSecs)
	fmt.Fprintf(w, "  sluice    applied %9.0f changes/s during the run  peak RSS %4d MB\n", applied, r.rss>>20)
	var first, second []time.Duration
	half := o.LiveFor / 2
	for _, l := range lags {
		if l.at < half {
			first = append(first, l.lag)
		} else if l.at < o.LiveFor {
			second = append(second, l.lag)
		}
	}
	all := append(append([]time.Duration(nil), first...), second...)
	if len(all) == 0 {
		return errors.New("mysqlpg: no probe arrived in PostgreSQL during the live run")
	}
	fmt.Fprintf(w, "  lag (probe, %d samples): p50 %s  p99 %s  max %s (goal p99 < 1 s)\n",
		len(all), pct(all, 50), pct(all, 99), pct(all, 100))
	if len(first) > 0 && len(second) > 0 {
		fmt.Fprintf(w, "  lag p50 first half %s, second half %s (keeps up: lag does not grow)\n", pct(first, 50), pct(second, 50))
	}
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s) - 1) * p / 100
	return s[i].Round(time.Millisecond)
}
