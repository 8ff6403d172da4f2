package kafka_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/kafkaread"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
)

// counterTable is (id int64 key, n int64): each update of a key carries the
// next n, so per-key order is visible in the values.
func counterTable(t testing.TB, name string) *sluice.Table {
	tb, err := sluice.NewTable(sluice.TableID{Schema: "order", Name: name}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "n", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "pad", Type: sluice.Type{Kind: sluice.KindString}},
	}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// counterBatch returns batch number b: for every key, one update to n =
// b*perKey+j for j < perKey, interleaved across keys, ending with a
// transaction position.
func counterBatch(tb *sluice.Table, b, keys, perKey int) *sink.Batch {
	var ch []sluice.Change
	for j := 0; j < perKey; j++ {
		for k := 0; k < keys; k++ {
			n := int64(b*perKey + j)
			c := sluice.Change{Op: sluice.OpUpdate, Table: tb, Before: sluice.Row{int64(k), n - 1, "p"}, After: sluice.Row{int64(k), n, "p"}, Time: time.Now()}
			if n == 0 {
				c = sluice.Change{Op: sluice.OpInsert, Table: tb, After: c.After, Time: c.Time}
			}
			ch = append(ch, c)
		}
	}
	pos := sluice.Position("tx-" + strconv.Itoa(b))
	ch[len(ch)-1].Pos = pos
	return &sink.Batch{Changes: ch, Position: pos}
}

// perKeyValues decodes the topic into the sequence of n per key, in
// partition order, and checks that every key lives in one partition.
func perKeyValues(t *testing.T, brokers []string, topic string, tb *sluice.Table, dec *kafkaread.Decoder) map[int64][]int64 {
	t.Helper()
	out := map[int64][]int64{}
	partOf := map[int64]int{}
	for p, recs := range readTopic(t, brokers, topic) {
		for _, r := range recs {
			d, err := dec.Decode(tb, r.Key, r.Value)
			if err != nil {
				t.Fatalf("decoding %d@%d: %v", p, r.Offset, err)
			}
			id, n := d.After[0].(int64), d.After[1].(int64)
			if q, ok := partOf[id]; ok && q != p {
				t.Fatalf("key %d in partitions %d and %d", id, q, p)
			}
			partOf[id] = p
			out[id] = append(out[id], n)
		}
	}
	return out
}

// SPEC K3: per-key order across many keys and partitions, and Write returns
// only after the broker acknowledged: every message of a returned Write is
// readable at once.
func TestPerKeyOrderAndAck(t *testing.T) {
	k := testenv.Kafka(t)
	reg := registrytest.New()
	defer reg.Close()
	ctx := context.Background()
	// Small produce requests, so a partition's messages of one Write take
	// many sequential requests.
	s, err := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, Registry: kafka.RegistryConfig{URL: reg.URL()}, BatchRecords: 7, BatchBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tb := counterTable(t, "per_key")
	const keys, perKey, batches = 200, 5, 8
	total := 0
	for b := 0; b < batches; b++ {
		batch := counterBatch(tb, b, keys, perKey)
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		total += len(batch.Changes)
		got := 0
		for _, p := range readTopic(t, k.Brokers, s.TopicFor(tb.ID)) {
			got += len(p)
		}
		if got != total {
			t.Fatalf("after Write %d returned: %d messages readable, want %d", b, got, total)
		}
	}
	vals := perKeyValues(t, k.Brokers, s.TopicFor(tb.ID), tb, newDecoder(t, kafka.Avro, kafka.EnvelopeSluice, reg.URL()))
	if len(vals) != keys {
		t.Fatalf("%d keys, want %d", len(vals), keys)
	}
	parts := map[int]bool{}
	for p, recs := range readTopic(t, k.Brokers, s.TopicFor(tb.ID)) {
		if len(recs) > 0 {
			parts[p] = true
		}
	}
	if len(parts) < 2 {
		t.Fatalf("keys spread over %d partitions; the test needs several", len(parts))
	}
	for id, ns := range vals {
		if len(ns) != batches*perKey {
			t.Fatalf("key %d: %d values, want %d", id, len(ns), batches*perKey)
		}
		for i, n := range ns {
			if n != int64(i) {
				t.Fatalf("key %d: value %d at position %d: out of order (%v)", id, n, i, ns)
			}
		}
	}
}

// proxy is a TCP proxy between the sink and the broker that can be taken
// down: down closes every open connection and refuses new ones.
type proxy struct {
	ln     net.Listener
	target string
	down   atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]bool
	drops  atomic.Int64
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			p.drops.Add(1)
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[u] = true, true
		p.mu.Unlock()
		go func() { _, _ = io.Copy(u, c); u.Close(); c.Close() }()
		go func() { _, _ = io.Copy(c, u); u.Close(); c.Close() }()
	}
}

func (p *proxy) setDown(down bool) {
	p.down.Store(down)
	if down {
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]bool{}
		p.mu.Unlock()
	}
}

// SPEC K3, P6: the broker unreachable for 10 s mid-stream: Write retries
// within its window and then continues with no loss; per-key order holds
// and duplicates are bounded by the batch in flight.
func TestBrokerOutage(t *testing.T) {
	b := testenv.NewKafka(t, testenv.KafkaOptions{})
	kc := b.Kafka()
	px := newProxy(t, kc.Brokers[0])
	reg := registrytest.New()
	defer reg.Close()
	ctx := context.Background()
	var dialer net.Dialer
	s, err := kafka.New(ctx, kafka.Config{
		Brokers: kc.Brokers, Registry: kafka.RegistryConfig{URL: reg.URL()}, RetryWindow: 40 * time.Second,
		WriteTimeout: 2 * time.Second, DialTimeout: time.Second,
		// Every broker connection goes through the proxy.
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, px.ln.Addr().String())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tb := counterTable(t, "outage")
	const keys, perKey, batches = 50, 2, 40
	var outageAt time.Time
	var slowest time.Duration
	for i := 0; i < batches; i++ {
		if i == 10 {
			px.setDown(true)
			outageAt = time.Now()
			time.AfterFunc(10*time.Second, func() { px.setDown(false) })
		}
		start := time.Now()
		if err := s.Write(ctx, counterBatch(tb, i, keys, perKey)); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
		slowest = max(slowest, time.Since(start))
	}
	if px.drops.Load() == 0 || time.Since(outageAt) < 10*time.Second {
		t.Fatalf("the outage did not hit the sink (drops %d, %s since)", px.drops.Load(), time.Since(outageAt))
	}
	t.Logf("slowest Write %s; %d connections refused during the outage", slowest, px.drops.Load())
	vals := perKeyValues(t, kc.Brokers, s.TopicFor(tb.ID), tb, newDecoder(t, kafka.Avro, kafka.EnvelopeSluice, reg.URL()))
	dups := 0
	for id, ns := range vals {
		// No loss: every value appears; order: never goes back except to
		// replay a run that was already written (duplicates, in order).
		seen := map[int64]bool{}
		for _, n := range ns {
			if seen[n] {
				dups++
			}
			seen[n] = true
		}
		for n := int64(0); n < batches*perKey; n++ {
			if !seen[n] {
				t.Fatalf("key %d lost value %d (%v)", id, n, ns)
			}
		}
		if last := ns[len(ns)-1]; last != batches*perKey-1 {
			t.Fatalf("key %d ends at %d, want %d", id, last, batches*perKey-1)
		}
		// Every step is +1, or a jump back that starts a replay of values
		// already written: never a gap, so nothing overtook anything.
		if ns[0] != 0 {
			t.Fatalf("key %d starts at %d", id, ns[0])
		}
		for i := 1; i < len(ns); i++ {
			if ns[i] > ns[i-1] && ns[i] != ns[i-1]+1 {
				t.Fatalf("key %d out of order at %d: %v", id, i, ns)
			}
		}
	}
	if dups > keys*perKey {
		t.Fatalf("%d duplicates, more than one batch (%d)", dups, keys*perKey)
	}
	t.Logf("%d duplicate messages after the outage (bound: one batch of %d)", dups, keys*perKey)
}

var _ = fmt.Sprint
