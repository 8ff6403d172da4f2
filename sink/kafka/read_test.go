package kafka_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink/kafka"
)

// rec is one record read back from a topic.
type rec struct {
	Partition  int
	Offset     int64
	Key, Value []byte
	Headers    map[string]string
}

// readTopic reads every record of topic, partition by partition, with
// kafka-go's Fetch (no consumer group), up to each partition's high
// watermark at the time of the call.
func readTopic(t testing.TB, brokers []string, topic string) [][]rec {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A fresh transport: the shared default one caches metadata for
	// seconds and would not know a topic created meanwhile.
	tr := &kafkago.Transport{}
	defer tr.CloseIdleConnections()
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: tr}
	md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatalf("metadata of %q: %v", topic, err)
	}
	var parts int
	for _, tp := range md.Topics {
		if tp.Name == topic {
			if tp.Error != nil {
				if errors.Is(tp.Error, kafkago.UnknownTopicOrPartition) {
					return nil
				}
				t.Fatalf("topic %q: %v", topic, tp.Error)
			}
			parts = len(tp.Partitions)
		}
	}
	out := make([][]rec, parts)
	for p := 0; p < parts; p++ {
		off := int64(0)
		for {
			res, err := cl.Fetch(ctx, &kafkago.FetchRequest{Topic: topic, Partition: p, Offset: off, MaxBytes: 64 << 20, MaxWait: 50 * time.Millisecond})
			if err != nil {
				t.Fatalf("fetch %s/%d@%d: %v", topic, p, off, err)
			}
			if res.Error != nil {
				t.Fatalf("fetch %s/%d@%d: %v", topic, p, off, res.Error)
			}
			for {
				r, err := res.Records.ReadRecord()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatalf("reading %s/%d: %v", topic, p, err)
					}
					break
				}
				if r.Offset < off {
					continue
				}
				x := rec{Partition: p, Offset: r.Offset, Headers: map[string]string{}}
				if r.Key != nil {
					x.Key, _ = io.ReadAll(r.Key)
				}
				if r.Value != nil {
					x.Value, _ = io.ReadAll(r.Value)
				}
				for _, h := range r.Headers {
					x.Headers[h.Key] = string(h.Value)
				}
				out[p] = append(out[p], x)
				off = r.Offset + 1
			}
			if off >= res.HighWatermark {
				break
			}
		}
	}
	return out
}

// materialize reads the topic of table and returns its latest value per
// key, as a consumer would build it: creates, reads and updates set the
// key, deletes and tombstones remove it, a truncate clears the keys of its
// partition, and columns listed as unchanged keep their previous value.
func materialize(t testing.TB, brokers []string, topic string, table *sluice.Table, enc kafka.Encoding, deb bool, dec *avroDecoder) []sluice.Row {
	t.Helper()
	state := map[string]sluice.Row{}
	for p, recs := range readTopic(t, brokers, topic) {
		inPart := map[string]bool{}
		for _, r := range recs {
			k := string(r.Key)
			if r.Value == nil {
				delete(state, k)
				continue
			}
			var d decoded
			var err error
			if enc == kafka.Avro {
				d, err = dec.decode(table, deb, r.Key, r.Value)
			} else {
				d, err = decodeJSON(table, deb, r.Key, r.Value)
			}
			if err != nil {
				t.Fatalf("decoding %s/%d@%d: %v", topic, p, r.Offset, err)
			}
			switch d.Op {
			case "c", "r", "u":
				row := d.After
				for _, n := range d.Unchanged {
					if i := table.ColumnIndex(n); i >= 0 {
						row[i] = sluice.Unchanged
					}
				}
				for i, v := range row {
					if sluice.IsUnchanged(v) {
						if old, ok := state[k]; ok {
							row[i] = old[i]
						} else {
							row[i] = nil
						}
					}
				}
				state[k] = row
				inPart[k] = true
			case "d":
				delete(state, k)
			case "t":
				for k := range inPart {
					delete(state, k)
				}
				inPart = map[string]bool{}
			default:
				t.Fatalf("%s/%d@%d: unknown op %q", topic, p, r.Offset, d.Op)
			}
		}
	}
	out := make([]sluice.Row, 0, len(state))
	for _, r := range state {
		out = append(out, r)
	}
	return out
}
