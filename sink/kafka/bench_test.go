package kafka_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/kafkabench"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
)

var benchSeq int

// BenchmarkSinkVsCeiling measures events/s through the sink (sysbench-style
// rows, batches of 5000 like the pipeline's default) and, beside it, the
// producer-only ceiling: a kafka-go Writer sending pre-encoded messages of
// the same key, value and header sizes to the same kind of in-process
// broker (each measurement on a fresh one, so neither pays for the other's
// retained data). Goal (issue 6): the Avro sink at ≥ 65 % of the ceiling.
func BenchmarkSinkVsCeiling(b *testing.B) {
	reg := registrytest.New()
	defer reg.Close()
	for _, mode := range []struct {
		name string
		enc  kafka.Encoding
	}{{"avro", kafka.Avro}, {"json", kafka.JSON}} {
		b.Run(mode.name, func(b *testing.B) {
			benchSeq++
			k := testenv.NewKafka(b, testenv.KafkaOptions{}).Kafka()
			ctx := context.Background()
			s, err := kafka.New(ctx, kafka.Config{Brokers: k.Brokers, Encoding: mode.enc, ServerName: fmt.Sprintf("bench%d", benchSeq),
				Registry: kafka.RegistryConfig{URL: reg.URL()}, Logger: discardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			tb := kafkabench.SysbenchTable("sbtest", "sbtest1")
			const batch = 5000
			changes := kafkabench.SysbenchChanges(tb, 50000, 10)
			n := max(b.N, batch)
			// Warm up: topic, schemas, connections.
			if err := s.Write(ctx, &sink.Batch{Changes: changes[:batch]}); err != nil {
				b.Fatal(err)
			}
			st0 := s.Stats()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < n; i += batch {
				off := i % len(changes)
				end := min(off+batch, len(changes), off+n-i)
				if err := s.Write(ctx, &sink.Batch{Changes: changes[off:end]}); err != nil {
					b.Fatal(err)
				}
			}
			el := time.Since(start)
			b.StopTimer()
			st := s.Stats()
			msgs := st.Messages - st0.Messages
			sz := kafkabench.Sizes{Key: int((st.KeyBytes - st0.KeyBytes) / msgs), Value: int((st.ValueBytes - st0.ValueBytes) / msgs), Headers: int((st.HeaderBytes - st0.HeaderBytes) / msgs)}
			sinkRate := float64(msgs) / el.Seconds()
			k2 := testenv.NewKafka(b, testenv.KafkaOptions{}).Kafka()
			ceil, err := kafkabench.Ceiling(ctx, k2.Brokers, fmt.Sprintf("bench%d.ceiling", benchSeq), int(msgs), batch, sz)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(sinkRate, "events/s")
			b.ReportMetric(ceil.PerSecond(), "ceiling-msgs/s")
			b.ReportMetric(100*sinkRate/ceil.PerSecond(), "%-of-ceiling")
			b.Logf("%s sink: %d events in %s = %.0f events/s (key %d B, value %d B, headers %d B); producer-only ceiling: %s; sink at %.0f%% of the ceiling",
				mode.name, msgs, el.Round(time.Millisecond), sinkRate, sz.Key, sz.Value, sz.Headers, ceil, 100*sinkRate/ceil.PerSecond())
		})
	}
}
