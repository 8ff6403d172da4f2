package kafka_test

import (
	"context"
	"log"
	"os"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
)

// A sink writing Avro with a Schema Registry over SASL/SCRAM, one topic per
// table ("shop.<schema>.<table>"), with tombstones after deletes.
func ExampleNew() {
	ctx := context.Background()
	s, err := kafka.New(ctx, kafka.Config{
		Brokers:    []string{"kafka-1:9093", "kafka-2:9093"},
		ServerName: "shop",
		Tombstones: true,
		SASL:       kafka.SASLConfig{Mechanism: kafka.SASLScramSHA512, Username: "cdc", Password: os.Getenv("KAFKA_PASSWORD")},
		Registry:   kafka.RegistryConfig{URL: "https://registry:8081", Username: "cdc", Password: os.Getenv("REGISTRY_PASSWORD")},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// Usually a pipeline calls Write; by hand it looks like this.
	orders, _ := sluice.NewTable(sluice.TableID{Schema: "shop", Name: "orders"}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "total", Type: sluice.Type{Kind: sluice.KindDecimal, Precision: 12, Scale: 2}},
	}, []int{0})
	err = s.Write(ctx, &sink.Batch{Changes: []sluice.Change{
		{Op: sluice.OpInsert, Table: orders, After: sluice.Row{int64(1), sluice.Decimal("19.90")}, Pos: sluice.Position("...")},
	}})
	if err != nil { // nil means every record was acknowledged (acks=all)
		log.Fatal(err)
	}
}

// A sink writing Debezium-compatible JSON into one topic.
func ExampleConfig_json() {
	cfg := kafka.Config{
		Brokers:  []string{"127.0.0.1:9092"},
		Encoding: kafka.JSON,
		Envelope: kafka.EnvelopeDebezium,
		Topic:    kafka.TopicConfig{Routing: kafka.Single, Name: "cdc-all"},
	}
	if err := cfg.Validate(); err != nil {
		log.Fatal(err)
	}
}
