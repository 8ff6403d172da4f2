// Command mysql-to-kafka streams MySQL/MariaDB tables into Kafka: initial
// snapshot, then every committed change, one topic per table, Avro in the
// Confluent wire format with a Schema Registry (or JSON), in Sluice's native
// or a Debezium-compatible envelope. Delivery is at-least-once: the
// checkpoint (a file) advances only after the brokers acknowledged every
// record up to it.
//
// Against your own servers:
//
//	MYSQL_PASSWORD=... go run ./examples/mysql-to-kafka \
//	  -mysql 127.0.0.1:3306 -user repl -tables 'shop.*' \
//	  -brokers kafka:9092 -registry http://registry:8081 -checkpoints ./state
//
// As a self-contained demo: -demo starts a private MariaDB, an in-process
// Kafka-protocol broker and an in-process Schema Registry test double,
// creates a shop schema with writers running, streams it for -duration,
// then checks that every topic holds exactly the source's rows (latest
// value per key) and removes everything.
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

	"github.com/sluicecdc/sluice/checkpoint"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/internal/workload"
	"github.com/sluicecdc/sluice/pipeline"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/kafkaread"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
	"github.com/sluicecdc/sluice/source/mysql"
)

func main() {
	var (
		demo        = flag.Bool("demo", false, "start a private MariaDB, Kafka-protocol broker and registry double, and stream a live shop workload")
		duration    = flag.Duration("duration", 15*time.Second, "with -demo: how long to stream after the initial sync")
		orders      = flag.Int("orders", 20000, "with -demo: orders to seed")
		addr        = flag.String("mysql", "127.0.0.1:3306", "MySQL/MariaDB address")
		user        = flag.String("user", "root", "MySQL user (password from $MYSQL_PASSWORD)")
		tables      = flag.String("tables", "", "comma-separated selection: db.table, db.*, or db")
		brokers     = flag.String("brokers", "127.0.0.1:9092", "comma-separated Kafka bootstrap brokers")
		registryURL = flag.String("registry", "", "Schema Registry URL (Avro); empty with -json")
		jsonEnc     = flag.Bool("json", false, "write JSON instead of Avro")
		debezium    = flag.Bool("debezium", false, "Debezium-compatible envelope")
		prefix      = flag.String("prefix", "sluice", "server name: topic prefix and Avro namespace")
		ckDir       = flag.String("checkpoints", "./sluice-checkpoints", "directory of the checkpoint file")
		name        = flag.String("name", "mysql-to-kafka", "pipeline name (checkpoint key)")
		verbose     = flag.Bool("v", false, "log pipeline internals")
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
		if *tables == "" {
			log.Fatal("need -tables (or -demo); see -help")
		}
		cfg := kafka.Config{Brokers: strings.Split(*brokers, ","), ServerName: *prefix,
			Registry: kafka.RegistryConfig{URL: *registryURL, Username: os.Getenv("REGISTRY_USER"), Password: os.Getenv("REGISTRY_PASSWORD")}}
		if *jsonEnc {
			cfg.Encoding = kafka.JSON
		}
		if *debezium {
			cfg.Envelope = kafka.EnvelopeDebezium
		}
		var ck checkpoint.Store
		if ck, err = checkpoint.NewFile(*ckDir); err == nil {
			err = Replicate(ctx, Options{Name: *name, Source: mysql.Config{
				Addr: *addr, User: *user, Password: os.Getenv("MYSQL_PASSWORD"), Tables: strings.Split(*tables, ","),
			}, Sink: cfg, Checkpoints: ck, Logger: logger, Print: os.Stdout})
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

// Options configure one replication run.
type Options struct {
	Name        string
	Source      mysql.Config
	Sink        kafka.Config
	Checkpoints checkpoint.Store
	Pipeline    func(*pipeline.Config) // optional adjustments
	Logger      *slog.Logger
	// Print receives a status line every second; nil prints nothing.
	Print io.Writer
	// Started receives the pipeline once it exists.
	Started chan<- *pipeline.Pipeline
}

// Replicate runs MySQL→Kafka until ctx ends or the pipeline fails.
func Replicate(ctx context.Context, o Options) error {
	o.Source.Logger, o.Sink.Logger = o.Logger, o.Logger
	src, err := mysql.New(o.Source)
	if err != nil {
		return err
	}
	dst, err := kafka.New(ctx, o.Sink)
	if err != nil {
		src.Close()
		return err
	}
	pc := pipeline.Config{Name: o.Name, Source: src, Sinks: []sink.Sink{dst}, Checkpoints: o.Checkpoints, Logger: o.Logger}
	if o.Pipeline != nil {
		o.Pipeline(&pc)
	}
	p, err := pipeline.New(pc)
	if err != nil {
		src.Close()
		dst.Close()
		return err
	}
	if o.Started != nil {
		o.Started <- p
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			if o.Print != nil {
				fmt.Fprintln(o.Print, p.Stats())
			}
			return err
		case <-t.C:
			if o.Print != nil {
				fmt.Fprintln(o.Print, p.Stats())
			}
		}
	}
}

func runDemo(ctx context.Context, logger *slog.Logger, duration time.Duration, orders int) error {
	fmt.Println("Starting a private MariaDB, an in-process Kafka-protocol broker and Schema Registry double...")
	my, err := testenv.StartMariaDB(ctx, testenv.MariaDBOptions{})
	if err != nil {
		return err
	}
	defer my.Close()
	kb, err := testenv.StartKafka(testenv.KafkaOptions{})
	if err != nil {
		return err
	}
	defer kb.Close()
	reg := registrytest.New()
	defer reg.Close()
	m, kc := my.MySQL(), kb.Kafka()
	fmt.Printf("MariaDB on %s, Kafka on %s, registry on %s\n", m.Addr(), strings.Join(kc.Brokers, ","), reg.URL())

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
	customers, products := orders/10+1, 500
	fmt.Printf("Seeding shop: %d customers, %d products, %d orders...\n", customers, products, orders)
	if err := workload.Seed(ctx, shop, customers, products, orders); err != nil {
		return err
	}
	writers := workload.StartWriters(ctx, shop, 2, 50, int64(orders), customers, products)

	sinkCfg := kafka.Config{Brokers: kc.Brokers, ServerName: "demo", Tombstones: true, Registry: kafka.RegistryConfig{URL: reg.URL()}}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	started := make(chan *pipeline.Pipeline, 1)
	runErr := make(chan error, 1)
	srcCfg := mysql.Config{Addr: m.Addr(), User: m.User, Password: m.Password, Tables: []string{"shop.*"}, Logger: logger}
	go func() {
		runErr <- Replicate(runCtx, Options{Name: "demo", Source: srcCfg,
			Sink: sinkCfg, Checkpoints: checkpoint.NewMemory(), Logger: logger, Print: os.Stdout, Started: started})
	}()
	var p *pipeline.Pipeline
	select {
	case p = <-started:
	case err := <-runErr:
		writers.Stop()
		return err
	}
	for p.State() != pipeline.StateSynchronizing {
		select {
		case err := <-runErr:
			writers.Stop()
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
	fmt.Println("Initial sync done; streaming live changes.")
	select {
	case <-time.After(duration):
	case <-ctx.Done():
	case err := <-runErr:
		writers.Stop()
		return err
	}
	writers.Stop()
	fmt.Printf("Writers stopped after %d transactions; checking the topics against the source...\n", writers.Txns.Load())
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var diffs []string
	for {
		diffs, err = compareCounts(vctx, shop, srcCfg, sinkCfg, reg.URL())
		if err == nil && len(diffs) == 0 || vctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	p.Stop()
	<-runErr
	if err != nil {
		return err
	}
	if len(diffs) > 0 {
		return fmt.Errorf("demo: topics differ from the source: %s", strings.Join(diffs, "; "))
	}
	fmt.Println("Every topic holds exactly the source's keys (latest value per key). Removing the servers.")
	return nil
}

// compareCounts compares, per captured table, the source's row count with
// the number of live keys in its topic (latest value per key, decoded with
// the schemas from the registry).
func compareCounts(ctx context.Context, db *sql.DB, src mysql.Config, cfg kafka.Config, registryURL string) ([]string, error) {
	s, err := kafka.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	ms, err := mysql.New(src)
	if err != nil {
		return nil, err
	}
	defer ms.Close()
	tables, err := ms.Tables(ctx)
	if err != nil {
		return nil, err
	}
	dec, err := kafkaread.NewDecoder(cfg.Encoding, cfg.Envelope, registryURL)
	if err != nil {
		return nil, err
	}
	var diffs []string
	for _, t := range tables {
		var want int
		q := "SELECT COUNT(*) FROM `" + strings.ReplaceAll(t.ID.Schema, "`", "``") + "`.`" + strings.ReplaceAll(t.ID.Name, "`", "``") + "`"
		if err := db.QueryRowContext(ctx, q).Scan(&want); err != nil {
			return nil, err
		}
		rows, err := kafkaread.ReadTable(ctx, cfg.Brokers, s.TopicFor(t.ID), t, dec, nil)
		if err != nil {
			return nil, err
		}
		if len(rows) != want {
			diffs = append(diffs, fmt.Sprintf("%s: %d rows in MySQL, %d keys in Kafka", t.ID, want, len(rows)))
		}
	}
	return diffs, nil
}
