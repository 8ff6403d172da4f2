// Package kafkaread reads back what the Kafka sink wrote: a topic's records
// partition by partition (kafka-go Fetch, no consumer group), decoded to
// neutral values — Avro with the schema fetched from the Schema Registry by
// the id in each record, JSON with encoding/json — and materialized as the
// latest row per key. Tests, examples and the demo use it to check a topic
// against its source; it reads a whole topic into memory, so it is not a
// production consumer.
package kafkaread
