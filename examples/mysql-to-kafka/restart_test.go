package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/checkpoint"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/pipeline"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/kafkaread"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
	"github.com/sluicecdc/sluice/source/mysql"
)

// writeLoad runs transactions of inserts, updates and deletes on acct
// until ctx ends.
func writeLoad(ctx context.Context, t *testing.T, db *sql.DB, wg *sync.WaitGroup, seed uint64, firstID int64) {
	defer wg.Done()
	r := rand.New(rand.NewPCG(seed, 7))
	next := firstID
	for ctx.Err() == nil {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return
		}
		for i := 0; i < 1+r.IntN(5); i++ {
			id := int64(1 + r.IntN(int(next)))
			switch r.IntN(10) {
			case 0, 1, 2:
				next++
				_, err = tx.Exec("INSERT INTO acct (id, v, s) VALUES (?, ?, ?)", next*10+int64(seed), r.Int64N(1000), fmt.Sprint("n", next))
			case 3:
				_, err = tx.Exec("DELETE FROM acct WHERE id = ?", id)
			default:
				_, err = tx.Exec("UPDATE acct SET v = v + 1, s = ? WHERE id = ?", fmt.Sprint("u", r.IntN(100)), id)
			}
			if err != nil {
				break
			}
		}
		if err != nil {
			tx.Rollback()
			if ctx.Err() == nil {
				t.Errorf("writer: %v", err)
			}
			return
		}
		if err := tx.Commit(); err != nil && ctx.Err() == nil {
			t.Errorf("writer commit: %v", err)
			return
		}
	}
}

// TestRestartFromCheckpoint proves SPEC K3 with P2: with writers running on
// the source, the pipeline is stopped mid-stream and started again from its
// file checkpoint; the topic then holds exactly the source's rows (nothing
// lost), and the records written twice — identified by key, sluice.tx and
// sluice.seq — are at most one batch.
func TestRestartFromCheckpoint(t *testing.T) {
	my := testenv.MariaDB(t)
	k := testenv.Kafka(t)
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE acct (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, s VARCHAR(20) NULL)")
	var seed []string
	for i := 1; i <= 2000; i++ {
		seed = append(seed, fmt.Sprintf("(%d, %d, 's%d')", i, i, i))
	}
	my.Exec(t, db, "INSERT INTO acct VALUES "+joinComma(seed))
	sqlDB := my.DB(t, db)

	reg := registrytest.New()
	defer reg.Close()
	store, err := checkpoint.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const maxBatch = 300
	src := mysql.Config{Addr: my.Addr(), User: my.User, Password: my.Password, Tables: []string{db + ".acct"}, ServerID: 4001, ChunkSize: 500}
	sk := kafka.Config{Brokers: k.Brokers, ServerName: "restart", Tombstones: true, Registry: kafka.RegistryConfig{URL: reg.URL()}}
	opts := Options{Name: "restart", Source: src, Sink: sk, Checkpoints: store, Pipeline: func(c *pipeline.Config) {
		c.Batch.MaxChanges = maxBatch
		c.Batch.MaxDelay = 20 * time.Millisecond
		c.CheckpointInterval = time.Millisecond
		// Stop abruptly: do not wait for buffered changes to drain.
		c.DrainTimeout = time.Nanosecond
	}}

	wctx, stopWriters := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go writeLoad(wctx, t, sqlDB, &wg, 1, 2000)
	go writeLoad(wctx, t, sqlDB, &wg, 2, 2000)

	r1 := startRun(t, opts)
	waitState(t, r1.p, pipeline.StateSynchronizing)
	time.Sleep(1500 * time.Millisecond)
	if err := r1.stop(); err != nil && err != context.Canceled {
		t.Fatalf("first run: %v", err)
	}
	saved, _ := store.Load(context.Background(), "restart")
	if saved == nil {
		t.Fatal("no checkpoint saved by the first run")
	}
	time.Sleep(500 * time.Millisecond) // writers keep going while it is down
	r2 := startRun(t, opts)
	time.Sleep(1500 * time.Millisecond)
	stopWriters()
	wg.Wait()

	// Nothing lost: the topic's latest value per key equals the source.
	want := map[int64]string{}
	rows, err := sqlDB.Query("SELECT id, v, s FROM acct")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, v int64
		var s sql.NullString
		if err := rows.Scan(&id, &v, &s); err != nil {
			t.Fatal(err)
		}
		want[id] = fmt.Sprint(v, "|", s.String)
	}
	rows.Close()
	ms, _ := mysql.New(src)
	tables, err := ms.Tables(context.Background())
	ms.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := kafka.New(context.Background(), sk)
	topic := s.TopicFor(tables[0].ID)
	dec, _ := kafkaread.NewDecoder(kafka.Avro, kafka.EnvelopeSluice, reg.URL())
	var diff string
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := kafkaread.ReadTable(context.Background(), k.Brokers, topic, tables[0], dec, nil)
		if err != nil {
			t.Fatal(err)
		}
		diff = compareAcct(got, want)
		if diff == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic differs from the source after the restart: %s", diff)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if err := r2.stop(); err != nil && err != context.Canceled {
		t.Fatalf("second run: %v", err)
	}

	// Duplicates: records whose (key, position, sequence) was seen before.
	parts, err := kafkaread.ReadTopic(context.Background(), k.Brokers, topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	total, dups := 0, 0
	for _, p := range parts {
		for _, rec := range p {
			if rec.Value == nil {
				continue // tombstones repeat their delete's identity
			}
			total++
			id := string(rec.Key) + "\x00" + rec.Headers[kafka.HeaderTx] + "\x00" + rec.Headers[kafka.HeaderSeq]
			if seen[id] {
				dups++
			}
			seen[id] = true
		}
	}
	t.Logf("%d records, %d duplicates after the restart (bound: one batch of %d); %d rows in the source", total, dups, maxBatch, len(want))
	if dups > maxBatch {
		t.Fatalf("%d duplicate records, more than one batch (%d)", dups, maxBatch)
	}
}

func waitState(t *testing.T, p *pipeline.Pipeline, st pipeline.State) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for p.State() != st {
		if time.Now().After(deadline) {
			t.Fatalf("pipeline state %s, want %s", p.State(), st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func compareAcct(got []sluice.Row, want map[int64]string) string {
	g := map[int64]string{}
	for _, r := range got {
		s, _ := r[2].(string)
		g[r[0].(int64)] = fmt.Sprint(r[1], "|", s)
	}
	var d []string
	for id, w := range want {
		if g[id] != w {
			d = append(d, fmt.Sprintf("id %d: topic %q, source %q", id, g[id], w))
		}
	}
	for id := range g {
		if _, ok := want[id]; !ok {
			d = append(d, fmt.Sprintf("id %d only in the topic", id))
		}
	}
	if len(d) > 5 {
		d = append(d[:5], fmt.Sprintf("... %d differences", len(d)))
	}
	return joinComma(d)
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
