package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/checkpoint"
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

func wkbPoint(x, y float64) sluice.Geometry {
	b := []byte{1, 1, 0, 0, 0}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(y))
}

type colCase struct {
	name, typ string
	sql       [2]string
	want      [2]any
}

// fidelityColumns is the MySQL source's fidelity table (SPEC S2): every
// MySQL type with edge values, and the neutral value the source emits.
func fidelityColumns() []colCase {
	utc := func(s string) time.Time {
		t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
		if err != nil {
			panic(err)
		}
		return t
	}
	big := strings.Repeat("xy", 35000)
	cols := []colCase{
		{"ti", "TINYINT", [2]string{"-128", "127"}, [2]any{int64(-128), int64(127)}},
		{"tiu", "TINYINT UNSIGNED", [2]string{"0", "255"}, [2]any{uint64(0), uint64(255)}},
		{"si", "SMALLINT", [2]string{"-32768", "32767"}, [2]any{int64(-32768), int64(32767)}},
		{"siu", "SMALLINT UNSIGNED", [2]string{"0", "65535"}, [2]any{uint64(0), uint64(65535)}},
		{"mi", "MEDIUMINT", [2]string{"-8388608", "8388607"}, [2]any{int64(-8388608), int64(8388607)}},
		{"miu", "MEDIUMINT UNSIGNED", [2]string{"0", "16777215"}, [2]any{uint64(0), uint64(16777215)}},
		{"i", "INT", [2]string{"-2147483648", "2147483647"}, [2]any{int64(math.MinInt32), int64(math.MaxInt32)}},
		{"iu", "INT UNSIGNED", [2]string{"0", "4294967295"}, [2]any{uint64(0), uint64(math.MaxUint32)}},
		{"bi", "BIGINT", [2]string{"-9223372036854775808", "9223372036854775807"}, [2]any{int64(math.MinInt64), int64(math.MaxInt64)}},
		{"biu", "BIGINT UNSIGNED", [2]string{"0", "18446744073709551615"}, [2]any{uint64(0), uint64(math.MaxUint64)}},
		{"b1", "TINYINT(1)", [2]string{"1", "0"}, [2]any{int64(1), int64(0)}},
		{"d65", "DECIMAL(65,30)", [2]string{"-99999999999999999999999999999999999.999999999999999999999999999999", "12345678901234567890123456789012345.000000000000000000000000000001"},
			[2]any{sluice.Decimal("-99999999999999999999999999999999999.999999999999999999999999999999"), sluice.Decimal("12345678901234567890123456789012345.000000000000000000000000000001")}},
		{"d52", "DECIMAL(5,2)", [2]string{"-0.5", "123.4"}, [2]any{sluice.Decimal("-0.50"), sluice.Decimal("123.40")}},
		{"d0", "DECIMAL(20,0)", [2]string{"-12345678901234567890", "0"}, [2]any{sluice.Decimal("-12345678901234567890"), sluice.Decimal("0")}},
		{"f", "FLOAT", [2]string{"3.40282e38", "0.1"}, [2]any{float32(3.40282e38), float32(0.1)}},
		{"dbl", "DOUBLE", [2]string{"1.7976931348623157e308", "-2.2250738585072014e-308"}, [2]any{math.MaxFloat64, -2.2250738585072014e-308}},
		{"bit1", "BIT(1)", [2]string{"b'1'", "b'0'"}, [2]any{uint64(1), uint64(0)}},
		{"bit64", "BIT(64)", [2]string{"x'FFFFFFFFFFFFFFFF'", "x'8000000000000001'"}, [2]any{uint64(math.MaxUint64), uint64(0x8000000000000001)}},
		{"bit12", "BIT(12)", [2]string{"b'101010101010'", "b'1'"}, [2]any{uint64(0xAAA), uint64(1)}},
		{"vc", "VARCHAR(20) CHARACTER SET utf8mb4", [2]string{"'héllo 😀'", "''"}, [2]any{"héllo 😀", ""}},
		{"l1", "VARCHAR(20) CHARACTER SET latin1", [2]string{"'café € ‰'", "'Ñandú'"}, [2]any{"café € ‰", "Ñandú"}},
		{"ch", "CHAR(5)", [2]string{"'ab'", "'abcde'"}, [2]any{"ab", "abcde"}},
		{"txt", "MEDIUMTEXT", [2]string{"'日本語テキスト'", "REPEAT('é', 40000)"}, [2]any{"日本語テキスト", strings.Repeat("é", 40000)}},
		{"bn", "BINARY(4)", [2]string{"x'0102'", "x'00000000'"}, [2]any{[]byte{1, 2, 0, 0}, []byte{0, 0, 0, 0}}},
		{"vb", "VARBINARY(10)", [2]string{"x'00ff00'", "''"}, [2]any{[]byte{0, 0xff, 0}, []byte{}}},
		{"bl", "LONGBLOB", [2]string{"REPEAT('xy', 35000)", "x'00'"}, [2]any{[]byte(big), []byte{0}}},
		{"dd", "DATE", [2]string{"'1000-01-01'", "'9999-12-31'"}, [2]any{sluice.Date{Year: 1000, Month: 1, Day: 1}, sluice.Date{Year: 9999, Month: 12, Day: 31}}},
		{"dz", "DATE", [2]string{"'0000-00-00'", "'2024-02-29'"}, [2]any{nil, sluice.Date{Year: 2024, Month: 2, Day: 29}}},
		{"tm", "TIME", [2]string{"'-838:59:59'", "'838:59:59'"}, [2]any{-(838*time.Hour + 59*time.Minute + 59*time.Second), 838*time.Hour + 59*time.Minute + 59*time.Second}},
		{"tm3", "TIME(3)", [2]string{"'-00:00:00.001'", "'25:30:00.5'"}, [2]any{-time.Millisecond, 25*time.Hour + 30*time.Minute + 500*time.Millisecond}},
		{"tm6", "TIME(6)", [2]string{"'-12:00:01.000001'", "'00:00:00'"}, [2]any{-(12*time.Hour + time.Second + time.Microsecond), time.Duration(0)}},
		{"dt0", "DATETIME", [2]string{"'1000-01-01 00:00:00'", "'9999-12-31 23:59:59'"}, [2]any{utc("1000-01-01 00:00:00"), utc("9999-12-31 23:59:59")}},
		{"dt3", "DATETIME(3)", [2]string{"'2024-02-29 12:34:56.123'", "'1970-01-01 00:00:00.001'"}, [2]any{utc("2024-02-29 12:34:56.123"), utc("1970-01-01 00:00:00.001")}},
		{"dt6", "DATETIME(6)", [2]string{"'2024-02-29 12:34:56.123456'", "'9999-12-31 23:59:59.999999'"}, [2]any{utc("2024-02-29 12:34:56.123456"), utc("9999-12-31 23:59:59.999999")}},
		{"ts0", "TIMESTAMP NULL", [2]string{"'2038-01-19 03:14:07'", "'1970-01-01 00:00:01'"}, [2]any{utc("2038-01-19 03:14:07"), utc("1970-01-01 00:00:01")}},
		{"ts6", "TIMESTAMP(6) NULL", [2]string{"'2038-01-19 03:14:07.999999'", "'2000-03-26 01:30:00.000001'"}, [2]any{utc("2038-01-19 03:14:07.999999"), utc("2000-03-26 01:30:00.000001")}},
		{"yr", "YEAR", [2]string{"1901", "2155"}, [2]any{int64(1901), int64(2155)}},
		{"en", "ENUM('a','b','c d','é')", [2]string{"'c d'", "'é'"}, [2]any{"c d", "é"}},
		{"st", "SET('x','y','z')", [2]string{"'x,z'", "''"}, [2]any{"x,z", ""}},
		{"js", "JSON", [2]string{`'{"a": [1, 2.5, "x"], "b" : null, "c": "😀"}'`, "'[]'"}, [2]any{sluice.JSON(`{"a":[1,2.5,"x"],"b":null,"c":"😀"}`), sluice.JSON(`[]`)}},
		{"geo", "GEOMETRY", [2]string{"ST_GeomFromText('POINT(1 2)')", "ST_GeomFromText('POINT(-1.5 1e10)')"}, [2]any{wkbPoint(1, 2), wkbPoint(-1.5, 1e10)}},
	}
	return cols
}

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
	cols := fidelityColumns()
	var defs, names []string
	for _, c := range cols {
		defs = append(defs, fmt.Sprintf("`%s` %s", c.name, c.typ))
		names = append(names, "`"+c.name+"`")
	}
	my.Exec(t, db, "CREATE TABLE `types` (`id` INT PRIMARY KEY, "+strings.Join(defs, ", ")+")")
	insert := func(ids ...int) {
		stmts := []string{"SET SESSION time_zone = '+00:00'", "SET SESSION sql_mode = ''"}
		for _, id := range ids {
			var vals []string
			for _, c := range cols {
				switch id % 100 {
				case 1:
					vals = append(vals, c.sql[0])
				case 2:
					vals = append(vals, c.sql[1])
				default:
					vals = append(vals, "NULL")
				}
			}
			stmts = append(stmts, fmt.Sprintf("INSERT INTO `types` (`id`, %s) VALUES (%d, %s)", strings.Join(names, ", "), id, strings.Join(vals, ", ")))
		}
		my.Exec(t, db, strings.Join(stmts, ";\n"))
	}
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
					var want any
					if base := id % 100; base < 3 {
						want = c.want[base-1]
					}
					col := table.Columns[i+1]
					if !sinktest.Equal(col.Type, row[i+1], want) {
						t.Errorf("row %d column %s (%s): got %s, want %s", id, c.name, c.typ, short(row[i+1]), short(want))
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
