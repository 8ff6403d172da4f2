package kafka_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/kafkaread"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
	"github.com/sluicecdc/sluice/sink/sinktest"
)

var targetSeq atomic.Int64

// kafkaTarget is a fresh topic namespace (its own ServerName, hence topic
// prefix) with its own registry double. Its materialized state is the
// latest value per key, decoded from the topic.
type kafkaTarget struct {
	brokers []string
	reg     *registrytest.Registry
	cfg     kafka.Config
	dec     *kafkaread.Decoder
}

func (k *kafkaTarget) Open(t *testing.T) sink.Sink {
	s, err := kafka.New(context.Background(), k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (k *kafkaTarget) Read(t *testing.T, table *sluice.Table) []sluice.Row {
	s, err := kafka.New(context.Background(), k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return materialize(t, k.brokers, s.TopicFor(table.ID), table, k.dec)
}

// TestConformance runs sink/sinktest (SPEC K3 through the sink contract)
// for Avro and JSON, native and Debezium envelopes.
func TestConformance(t *testing.T) {
	k := testenv.Kafka(t)
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
			sinktest.Run(t, sinktest.Harness{
				NewTarget: func(t *testing.T) sinktest.Target {
					reg := registrytest.New()
					t.Cleanup(reg.Close)
					return &kafkaTarget{brokers: k.Brokers, reg: reg, dec: newDecoder(t, mode.enc, mode.env, reg.URL()), cfg: kafka.Config{
						Brokers: k.Brokers, Encoding: mode.enc, Envelope: mode.env, Tombstones: true,
						ServerName: fmt.Sprintf("st%d", targetSeq.Add(1)),
						Registry:   kafka.RegistryConfig{URL: reg.URL()},
					}}
				},
				Features: []sinktest.Feature{sinktest.Truncate, sinktest.AddColumn, sinktest.Unchanged},
			})
		})
	}
}
