package kafka_test

import (
	"context"
	"testing"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/kafkaread"
)

func readTopic(t testing.TB, brokers []string, topic string) [][]kafkaread.Record {
	t.Helper()
	parts, err := kafkaread.ReadTopic(context.Background(), brokers, topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

func newDecoder(t testing.TB, enc kafka.Encoding, env kafka.Envelope, registryURL string) *kafkaread.Decoder {
	t.Helper()
	d, err := kafkaread.NewDecoder(enc, env, registryURL)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func materialize(t testing.TB, brokers []string, topic string, table *sluice.Table, d *kafkaread.Decoder) []sluice.Row {
	t.Helper()
	rows, err := kafkaread.ReadTable(context.Background(), brokers, topic, table, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
