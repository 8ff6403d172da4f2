package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/checkpoint"
	"github.com/sluicecdc/sluice/internal/fidelity"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/pipeline"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/kafkaread"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
	"github.com/sluicecdc/sluice/sink/sinktest"
	"github.com/sluicecdc/sluice/source/mysql"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

var runSeq atomic.Int64

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// run starts Replicate in the background; stop cancels it and returns its
// error.
type run struct {
	cancel context.CancelFunc
	done   chan error
	p      *pipeline.Pipeline
}

func startRun(t *testing.T, o Options) *run {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *pipeline.Pipeline, 1)
	o.Started = started
	if o.Logger == nil {
		o.Logger = quiet()
	}
	r := &run{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- Replicate(ctx, o) }()
	select {
	case r.p = <-started:
	case err := <-r.done:
		t.Fatalf("Replicate: %v", err)
	}
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *run) stop() error {
	r.cancel()
	err := <-r.done
	r.done <- err
	return err
}

// waitRows polls the topic of table until cond holds for its materialized
// rows, or fails after a minute.
func waitRows(t *testing.T, brokers []string, topic string, table *sluice.Table, dec *kafkaread.Decoder, what string, cond func([]sluice.Row) bool) []sluice.Row {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		rows, err := kafkaread.ReadTable(context.Background(), brokers, topic, table, dec, nil)
		if err == nil && cond(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %d rows, err %v", what, len(rows), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestTypesEndToEnd proves SPEC K3 with S2: every MySQL type of the
// source's fidelity table, read by the snapshot and from the binlog, goes
// through the pipeline into Kafka and decodes back to the source's value —
// Avro decoded with the schema fetched from the registry by id, and JSON.
func TestTypesEndToEnd(t *testing.T) {
	my := testenv.MariaDB(t)
	k := testenv.Kafka(t)
	db := my.CreateDatabase(t)
	cols := fidelity.Columns(time.UTC)
	my.Exec(t, db, fidelity.CreateTable("types", cols))
	insert := func(ids ...int) { my.Exec(t, db, fidelity.Insert("types", cols, time.UTC, ids...)) }
	insert(1, 2, 3)
	binlogDone := false
	for _, mode := range []struct {
		name string
		enc  kafka.Encoding
		env  kafka.Envelope
	}{
		{"avro", kafka.Avro, kafka.EnvelopeSluice},
		{"avro_debezium", kafka.Avro, kafka.EnvelopeDebezium},
		{"json", kafka.JSON, kafka.EnvelopeSluice},
	} {
		t.Run(mode.name, func(t *testing.T) {
			reg := registrytest.New()
			defer reg.Close()
			n := runSeq.Add(1)
			src := mysql.Config{Addr: my.Addr(), User: my.User, Password: my.Password, Tables: []string{db + ".types"}, ServerID: uint32(3000 + n)}
			sk := kafka.Config{Brokers: k.Brokers, Encoding: mode.enc, Envelope: mode.env, ServerName: fmt.Sprintf("types%d", n), Registry: kafka.RegistryConfig{URL: reg.URL()}}
			r := startRun(t, Options{Name: "types", Source: src, Sink: sk, Checkpoints: checkpoint.NewMemory()})
			s, _ := kafka.New(context.Background(), sk)
			ms, err := mysql.New(src)
			if err != nil {
				t.Fatal(err)
			}
			defer ms.Close()
			tables, err := ms.Tables(context.Background())
			if err != nil || len(tables) != 1 {
				t.Fatalf("tables %v, %v", tables, err)
			}
			table := tables[0]
			topic := s.TopicFor(table.ID)
			dec, err := kafkaread.NewDecoder(mode.enc, mode.env, reg.URL())
			if err != nil {
				t.Fatal(err)
			}
			if !binlogDone {
				// Rows 101..103 come from the binlog in the first mode run;
				// later modes read all six by the snapshot.
				binlogDone = true
				waitRows(t, k.Brokers, topic, table, dec, "3 snapshot rows", func(rs []sluice.Row) bool { return len(rs) == 3 })
				insert(101, 102, 103)
			}
			rows := waitRows(t, k.Brokers, topic, table, dec, "6 rows", func(rs []sluice.Row) bool { return len(rs) == 6 })
			if err := r.stop(); err != nil && err != context.Canceled {
				t.Fatalf("pipeline: %v", err)
			}
			byID := map[int64]sluice.Row{}
			for _, row := range rows {
				byID[row[0].(int64)] = row
			}
			for _, id := range []int64{1, 2, 3, 101, 102, 103} {
				row := byID[id]
				if row == nil {
					t.Fatalf("row %d missing", id)
				}
				for i, c := range cols {
					want := c.WantFor(int(id))
					col := table.Columns[i+1]
					if !sinktest.Equal(col.Type, row[i+1], want) {
						t.Errorf("row %d column %s (%s): got %s, want %s", id, c.Name, c.Type, short(row[i+1]), short(want))
					}
				}
			}
		})
	}
}

func short(v any) string {
	s := fmt.Sprintf("%T(%v)", v, v)
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
