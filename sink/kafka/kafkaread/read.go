package kafkaread

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/sluicecdc/sluice"
)

// Record is one record read back from a topic.
type Record struct {
	Partition  int
	Offset     int64
	Key, Value []byte
	Headers    map[string]string
}

// Options reach brokers that need more than a plain connection.
type Options struct {
	// Transport overrides the kafka-go transport (TLS, SASL); nil means a
	// fresh plain one per call.
	Transport *kafkago.Transport
}

// ReadTopic reads every record of topic, partition by partition (index =
// partition), in offset order, up to each partition's high watermark at the
// time of the call. It uses kafka-go's Fetch, no consumer group. A topic
// that does not exist reads as no partitions.
func ReadTopic(ctx context.Context, brokers []string, topic string, o *Options) ([][]Record, error) {
	tr := &kafkago.Transport{}
	if o != nil && o.Transport != nil {
		tr = o.Transport
	} else {
		// A fresh transport: a shared one caches metadata for seconds and
		// would not know a topic created meanwhile.
		defer tr.CloseIdleConnections()
	}
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: tr}
	md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("kafkaread: metadata of topic %q: %w", topic, err)
	}
	parts := 0
	for _, tp := range md.Topics {
		if tp.Name == topic {
			if tp.Error != nil {
				if errors.Is(tp.Error, kafkago.UnknownTopicOrPartition) {
					return nil, nil
				}
				return nil, fmt.Errorf("kafkaread: topic %q: %w", topic, tp.Error)
			}
			parts = len(tp.Partitions)
		}
	}
	out := make([][]Record, parts)
	for p := 0; p < parts; p++ {
		off := int64(0)
		for {
			res, err := cl.Fetch(ctx, &kafkago.FetchRequest{Topic: topic, Partition: p, Offset: off, MaxBytes: 64 << 20, MaxWait: 50 * time.Millisecond})
			if err == nil {
				err = res.Error
			}
			if err != nil {
				return nil, fmt.Errorf("kafkaread: fetching %s/%d at offset %d: %w", topic, p, off, err)
			}
			for {
				r, err := res.Records.ReadRecord()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						return nil, fmt.Errorf("kafkaread: reading %s/%d: %w", topic, p, err)
					}
					break
				}
				if r.Offset < off {
					continue
				}
				x := Record{Partition: p, Offset: r.Offset, Headers: map[string]string{}}
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
	return out, nil
}

// Materialize builds the latest row per key from partitions (as returned by
// ReadTopic), the way a consumer would: creates, reads and updates set the
// key, deletes and tombstones remove it, a truncate clears the keys of its
// partition, and columns the source did not send keep their previous value.
// Records of other tables (a shared topic) are skipped.
func Materialize(partitions [][]Record, table *sluice.Table, d *Decoder) ([]sluice.Row, error) {
	state := map[string]sluice.Row{}
	for p, recs := range partitions {
		inPart := map[string]bool{}
		for _, r := range recs {
			k := string(r.Key)
			if r.Value == nil {
				delete(state, k)
				continue
			}
			dc, err := d.Decode(table, r.Key, r.Value)
			if err != nil {
				return nil, fmt.Errorf("record %d@%d: %w", p, r.Offset, err)
			}
			if t, _ := unwrapUnion(dc.Source["table"]).(string); t != "" && t != table.ID.Name {
				continue
			}
			if db, _ := unwrapUnion(dc.Source["db"]).(string); db != "" && db != table.ID.Schema {
				continue
			}
			switch dc.Op {
			case "c", "r", "u":
				row := dc.After
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
				return nil, fmt.Errorf("record %d@%d: unknown op %q", p, r.Offset, dc.Op)
			}
		}
	}
	out := make([]sluice.Row, 0, len(state))
	for _, r := range state {
		out = append(out, r)
	}
	return out, nil
}

// ReadTable reads and materializes the topic of table.
func ReadTable(ctx context.Context, brokers []string, topic string, table *sluice.Table, d *Decoder, o *Options) ([]sluice.Row, error) {
	parts, err := ReadTopic(ctx, brokers, topic, o)
	if err != nil {
		return nil, err
	}
	return Materialize(parts, table, d)
}
