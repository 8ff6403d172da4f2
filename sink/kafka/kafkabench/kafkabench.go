// Package kafkabench holds the measuring helpers shared by the Kafka sink's
// benchmarks and the MySQL→Kafka end-to-end benchmark: a sysbench-style
// table and changes, and the producer-only ceiling (a kafka-go Writer with
// pre-encoded messages of the same sizes to the same broker) that the sink's
// throughput is compared against.
package kafkabench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/sluicecdc/sluice"
)

// SysbenchTable is sysbench's sbtest table: id INT key, k INT, c CHAR(120),
// pad CHAR(60).
func SysbenchTable(schema, name string) *sluice.Table {
	t, err := sluice.NewTable(sluice.TableID{Schema: schema, Name: name}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}, Native: "int(11)"},
		{Name: "k", Type: sluice.Type{Kind: sluice.KindInt, Bits: 32}, Native: "int(11)"},
		{Name: "c", Type: sluice.Type{Kind: sluice.KindString, Length: 120, Fixed: true}, Native: "char(120)"},
		{Name: "pad", Type: sluice.Type{Kind: sluice.KindString, Length: 60, Fixed: true}, Native: "char(60)"},
	}, []int{0})
	if err != nil {
		panic(err)
	}
	return t
}

// SysbenchString returns sysbench's "###########-###########-..." filler of
// groups random digit groups.
func SysbenchString(r *rand.Rand, groups int) string {
	var b strings.Builder
	for g := 0; g < groups; g++ {
		if g > 0 {
			b.WriteByte('-')
		}
		for i := 0; i < 11; i++ {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
	}
	return b.String()
}

// SysbenchChanges returns n inserts into t with sysbench-style values, a
// transaction end (Pos) every txSize changes.
func SysbenchChanges(t *sluice.Table, n, txSize int) []sluice.Change {
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	out := make([]sluice.Change, n)
	for i := range out {
		out[i] = sluice.Change{Op: sluice.OpInsert, Table: t, Time: now, Size: 200,
			After: sluice.Row{int64(i + 1), int64(r.IntN(1 << 20)), SysbenchString(r, 10), SysbenchString(r, 5)}}
		if (i+1)%txSize == 0 || i == n-1 {
			out[i].Pos = sluice.Position("bench-" + strconv.Itoa(i+1))
		}
	}
	return out
}

// Result is one throughput measurement.
type Result struct {
	Messages int
	Elapsed  time.Duration
}

// PerSecond is messages per second.
func (r Result) PerSecond() float64 { return float64(r.Messages) / r.Elapsed.Seconds() }

// String renders "N msgs in D = X msgs/s".
func (r Result) String() string {
	return fmt.Sprintf("%d msgs in %s = %.0f msgs/s", r.Messages, r.Elapsed.Round(time.Millisecond), r.PerSecond())
}

// Sizes are the average sizes of a message's parts.
type Sizes struct{ Key, Value, Headers int }

// Ceiling measures the producer-only ceiling: a kafka-go Writer (acks=all,
// Java-compatible murmur2 partitioning, 1 ms linger) writing n pre-encoded
// messages with the given key, value and header sizes to topic, in
// synchronous WriteMessages calls of batch messages: the same shape of work
// as the sink's Write, without any encoding.
func Ceiling(ctx context.Context, brokers []string, topic string, n, batch int, size Sizes) (Result, error) {
	keyLen, valueLen := size.Key, size.Value
	w := &kafkago.Writer{
		Addr: kafkago.TCP(brokers...), Topic: topic, RequiredAcks: kafkago.RequireAll,
		Balancer: &kafkago.Murmur2Balancer{Consistent: true}, BatchSize: batch, BatchBytes: 1 << 20,
		BatchTimeout: time.Millisecond, AllowAutoTopicCreation: true,
	}
	defer w.Close()
	msgs := make([]kafkago.Message, n)
	value := make([]byte, valueLen)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	var headers []kafkago.Header
	if size.Headers > 0 {
		headers = []kafkago.Header{{Key: "h", Value: make([]byte, max(size.Headers-1, 0))}}
	}
	for i := range msgs {
		key := make([]byte, keyLen)
		copy(key, strconv.Itoa(i))
		msgs[i] = kafkago.Message{Key: key, Value: value, Headers: headers}
	}
	// Warm up (topic creation, connections, metadata).
	if err := w.WriteMessages(ctx, msgs[:min(batch, n)]...); err != nil {
		return Result{}, fmt.Errorf("kafkabench: warming up the writer: %w", err)
	}
	start := time.Now()
	for i := 0; i < n; i += batch {
		if err := w.WriteMessages(ctx, msgs[i:min(i+batch, n)]...); err != nil {
			return Result{}, fmt.Errorf("kafkabench: writing: %w", err)
		}
	}
	return Result{Messages: n, Elapsed: time.Since(start)}, nil
}
