// Command mysql-to-postgres replicates MySQL/MariaDB tables into PostgreSQL:
// schema sync, initial full sync, then continuous change streaming, with
// exactly-once delivery (the position is stored in PostgreSQL with the data).
//
// Against your own servers:
//
//	MYSQL_PASSWORD=... PG_URL=postgres://user:pass@host/db \
//	  go run ./examples/mysql-to-postgres -mysql 127.0.0.1:3306 -user repl -tables 'shop.*'
//
// As a self-contained demo (what `make demo` runs): -demo starts a private
// MariaDB and PostgreSQL in a temp dir, creates a shop schema with writers
// running, replicates it while printing snapshot progress and live
// throughput and lag, verifies that target equals source, and removes the
// servers. Stop it with Ctrl-C or let -duration pass.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/internal/workload"
	"github.com/sluicecdc/sluice/pipeline"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/postgres"
	"github.com/sluicecdc/sluice/source/mysql"
)

func main() {
	var (
		demo     = flag.Bool("demo", false, "start private throwaway MariaDB and PostgreSQL servers and replicate a live shop workload")
		duration = flag.Duration("duration", 20*time.Second, "with -demo: how long to stream after the initial sync (0: until Ctrl-C)")
		orders   = flag.Int("orders", 200000, "with -demo: orders to seed (each has two items)")
		addr     = flag.String("mysql", "127.0.0.1:3306", "MySQL/MariaDB address")
		user     = flag.String("user", "root", "MySQL user (password from $MYSQL_PASSWORD)")
		tables   = flag.String("tables", "", "comma-separated selection: db.table, db.*, or db")
		name     = flag.String("name", "mysql-to-postgres", "pipeline name (checkpoint key)")
		verbose  = flag.Bool("v", false, "log pipeline internals")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	var err error
	if *demo {
		err = runDemo(ctx, logger, *duration, *orders)
	} else {
		if *tables == "" || os.Getenv("PG_URL") == "" {
			log.Fatal("need -tables and $PG_URL (or -demo); see -help")
		}
		err = replicate(ctx, logger, *name, mysql.Config{
			Addr: *addr, User: *user, Password: os.Getenv("MYSQL_PASSWORD"),
			Tables: strings.Split(*tables, ","),
		}, os.Getenv("PG_URL"), nil)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

// replicate runs one pipeline until ctx ends, printing its state every
// second. started, if set, receives the pipeline once it exists.
func replicate(ctx context.Context, logger *slog.Logger, name string, src mysql.Config, pgURL string, started chan<- *pipeline.Pipeline) error {
	src.Logger = logger
	s, err := mysql.New(src)
	if err != nil {
		return err
	}
	d, err := postgres.New(ctx, postgres.Config{ConnString: pgURL, Logger: logger})
	if err != nil {
		s.Close()
		return err
	}
	p, err := pipeline.New(pipeline.Config{Name: name, Source: s, Sinks: []sink.Sink{d}, Logger: logger})
	if err != nil {
		s.Close()
		d.Close()
		return err
	}
	if started != nil {
		started <- p
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			fmt.Println(p.Stats())
			return err
		case <-t.C:
			fmt.Println(p.Stats())
		}
	}
}

func runDemo(ctx context.Context, logger *slog.Logger, duration time.Duration, orders int) error {
	fmt.Println("Starting private MariaDB and PostgreSQL servers (removed at the end)...")
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
	fmt.Printf("MariaDB on %s, PostgreSQL on %s\n", m.Addr(), pc.Addr())

	root, err := sql.Open("mysql", m.RootDSN(""))
	if err != nil {
		return err
	}
	defer root.Close()
	if err := workload.Create(ctx, root, "shop"); err != nil {
		return err
	}
	shop, err := sql.Open("mysql", m.RootDSN("shop"))
	if err != nil {
		return err
	}
	defer shop.Close()
	customers, products := orders/10+1, 2000
	fmt.Printf("Seeding shop: %d customers, %d products, %d orders, %d order items...\n", customers, products, orders, 2*orders)
	if err := workload.Seed(ctx, shop, customers, products, orders); err != nil {
		return err
	}
	fmt.Println("Starting 4 writers (inserts, updates, deletes, key changes) on the source...")
	writers := workload.StartWriters(ctx, shop, 4, 50, int64(orders), customers, products)

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	started := make(chan *pipeline.Pipeline, 1)
	runErr := make(chan error, 1)
	go func() {
		runErr <- replicate(runCtx, logger, "demo", mysql.Config{
			Addr: m.Addr(), User: m.User, Password: m.Password, Tables: []string{"shop.*"},
		}, pc.ConnString("postgres"), started)
	}()
	var p *pipeline.Pipeline
	select {
	case p = <-started:
	case err := <-runErr:
		writers.Stop()
		return err
	}

	// Stream for the set duration after the initial sync, or until Ctrl-C.
	for p.State() != pipeline.StateSynchronizing {
		select {
		case err := <-runErr:
			writers.Stop()
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
	fmt.Println("Initial sync done; streaming live changes.")
	var until <-chan time.Time
	if duration > 0 {
		until = time.After(duration)
	}
	select {
	case <-until:
	case <-ctx.Done():
		fmt.Println("Interrupted: stopping writers and letting the pipeline catch up...")
	case err := <-runErr:
		writers.Stop()
		return err
	}
	writers.Stop()
	fmt.Printf("Writers stopped after %d transactions. Waiting for the target to equal the source...\n", writers.Txns.Load())

	pool, err := pgxpool.New(context.WithoutCancel(ctx), pc.ConnString("postgres"))
	if err != nil {
		return err
	}
	defer pool.Close()
	verifyCtx, cancelVerify := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancelVerify()
	var diff workload.Diff
	for {
		if diff, err = workload.Compare(verifyCtx, shop, pool, "shop"); err == nil && diff.Equal() {
			break
		}
		if verifyCtx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	p.Stop()
	<-runErr
	if err != nil {
		return fmt.Errorf("verifying: %w", err)
	}
	fmt.Print(diff.String())
	if !diff.Equal() {
		return errors.New("demo: target differs from source (see above)")
	}
	fmt.Printf("Target equals source: %d rows in %d tables compared row by row. Removing the servers.\n", diff.Rows(), len(diff.Tables))
	return nil
}
