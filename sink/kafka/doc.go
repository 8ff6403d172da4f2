// Package kafka is the Kafka sink (SPEC K3): every change becomes a Kafka
// record whose key is the row's primary key and whose value is an envelope
// {before, after, source, op, ts_ms}, encoded as Avro in the Confluent wire
// format with a Schema Registry, or as JSON.
//
//	s, err := kafka.New(ctx, kafka.Config{
//		Brokers:  []string{"kafka:9092"},
//		Registry: kafka.RegistryConfig{URL: "http://registry:8081"},
//	})
//
// # Topics and partitions
//
// Topic.Routing chooses one topic per table ("<prefix>.<schema>.<table>",
// Debezium's naming; the prefix defaults to ServerName, "sluice"), a single
// topic, or a template such as "cdc.{schema}.{table}". Characters Kafka does
// not allow in topic names become '_'. Topics are auto-created by the broker
// or, with Topic.CreatePartitions, by the sink.
//
// The partition of a record is the Java client's default for a non-null
// key: toPositive(murmur2(key bytes)) % partitions, over the serialized key
// (for Avro including the 5-byte wire header, as KafkaAvroSerializer keys
// are), so Java producers and consumers agree with us. A table without a key
// has null keys; all its records go to one partition (chosen by hashing the
// table name) so that they stay in order. A truncate is written to every
// partition, so that it is ordered against every key's records.
//
// # Delivery: at-least-once, per-key order
//
// Write encodes the batch, then sends each partition's records in order,
// one produce request (acks=all, at most BatchBytes/BatchRecords) at a time,
// partitions in parallel; it returns nil only when the brokers acknowledged
// every record, so the pipeline saves a checkpoint only for acknowledged
// data. The sink uses kafka-go's Client.Produce directly rather than
// kafka.Writer: the Writer lingers up to BatchTimeout for the last batch of
// a synchronous call, and after a failed batch it still writes the next
// batches of the partition, which could put a key's older value after a
// newer one. Here a failed request stops its partition; Write retries within
// RetryWindow with backoff, resuming every partition at its first
// unacknowledged record. A request whose acknowledgement was lost is sent
// again, so delivery is at-least-once: a replayed record follows the
// original in order (an older value can reappear only as part of an exact,
// in-order replay). After a restart the pipeline replays from its
// checkpoint: at most the batches after the last saved checkpoint repeat.
//
// Every record carries headers so that consumers can drop replays:
// HeaderTx ("sluice.tx", a 64-bit hash of the source position at which the
// change's transaction ends) and HeaderSeq ("sluice.seq", the change's
// ordinal within its transaction); a replay repeats both. The records of the
// change that ends a transaction also carry the full position in HeaderPos
// ("sluice.pos") and in the envelope's source.position — what a checkpoint
// stores. (Only transaction ends carry it: a MySQL position embeds the
// captured tables' schemas and can be large.) For a transaction larger than
// one batch, the records of its earlier batches have no HeaderTx (the end is
// not known yet when they are written); their HeaderSeq still counts on.
//
// # Envelope
//
// op is "c" (insert), "u" (update), "d" (delete), "r" (snapshot read) or
// "t" (truncate: no before, no after, null key). An update that changes the
// key is written as a delete of the old key followed by a create of the new
// one (as Debezium does). With Tombstones, every delete is followed by a
// tombstone (the key with a null value) for log compaction. source holds
// the server name, db (schema), table, position, ts_ms (commit time) and
// snapshot (position is null except on a transaction's last change); the
// top-level ts_ms is when the sink wrote the record. Schema
// changes are not data records: the first row of a new table version
// registers that version's schemas (a new registry version), and its
// records carry the new schema id. A column whose value the source did not
// send (sluice.Unchanged, PostgreSQL TOAST) is written as null (or the
// kind's zero for a NOT NULL column) and listed in the envelope's
// "unchanged" array, so consumers keep their previous value.
//
// EnvelopeDebezium keeps the same field names and op codes and adds
// Debezium's conventions: a source block with version, connector, name,
// ts_ms, snapshot ("true"/"false"), db, sequence, table; ts_ms optional;
// record names <server>.<db>.<table>.Envelope, .Value and .Key with
// connect.name properties; Debezium's semantic types (below).
//
// # Avro
//
// Schemas are built once per table version (a *sluice.Table) and
// registered under TopicNameStrategy ("<topic>-key", "<topic>-value") or
// RecordNameStrategy (the records' full names); ids are cached. SyncSchema
// (sink.SchemaSyncer) registers the initial versions before the initial
// sync, and Precheck asks the registry's compatibility endpoint whether
// they would be accepted, without registering anything. The
// encoder writes Avro binary directly from the row's neutral values (no
// reflection, no maps per value); tests decode every record with
// hamba/avro using the schema fetched from the registry by id. Nullable
// columns are ["null", T] with default null; NOT NULL columns have no
// default, so under the registry's default BACKWARD rule an ADD COLUMN of a
// nullable column is a compatible new version, while ADD COLUMN NOT NULL or
// a type change is refused (HTTP 409): Write then fails with a permanent
// error naming the subject and the registry's reason (errors.Is
// registry.ErrIncompatible). Field names are sanitized to Avro names
// ([A-Za-z_][A-Za-z0-9_]*, others '_'); a changed name keeps the original in
// the field property "sluice.column".
//
// Type mapping (EnvelopeSluice / EnvelopeDebezium where they differ):
//
//	bool                  boolean
//	int (8..32 bits)      int (Debezium: connect.type int8/int16)
//	int (64), year        long; year is int (Debezium: io.debezium.time.Year)
//	uint (8, 16 bits)     int
//	uint (24, 32 bits)    long
//	uint (64 bits)        bytes decimal(20,0): BIGINT UNSIGNED max survives
//	float32, float64      float, double
//	decimal(p,s)          bytes decimal(p,s), from the exact text, never a float
//	decimal (no p)        string with "sluice.type": "decimal"
//	string, enum, set     string (enum/set: "sluice.type"; Debezium: io.debezium.data.Enum/EnumSet with "allowed")
//	bytes                 bytes
//	uuid                  string, logicalType uuid
//	date                  int, logicalType date (days; a kept zero date is ZeroDateDays)
//	time                  long, logicalType time-micros / io.debezium.time.MicroTime
//	datetime              long, local-timestamp-micros / io.debezium.time.Timestamp (ms, scale ≤ 3) or MicroTimestamp
//	timestamp             long, timestamp-micros / string io.debezium.time.ZonedTimestamp
//	bit(n)                long holding the bits / boolean for bit(1), else bytes io.debezium.data.Bits (little-endian)
//	json                  string ("sluice.type": "json" / io.debezium.data.Json)
//	geometry              bytes (WKB, "sluice.srid") / record io.debezium.data.geometry.Geometry {wkb, srid}
//
// MySQL TIME is a duration (negative and beyond 24 h allowed); it is written
// as its microseconds under time-micros, which Avro defines as a time of
// day: readers that convert time-micros to a wall-clock type reject values
// outside 00:00..24:00, while generic readers (and hamba/avro, which decodes
// to a time.Duration) keep them exact. BIT(64) values with the top bit set
// appear as negative longs with the same 64 bits.
//
// # JSON
//
// The same envelope as JSON objects (keys are the source's column names);
// the value representation is listed in json.go: decimals as strings, bytes
// base64, dates "YYYY-MM-DD", times "[-]HH:MM:SS.ffffff", datetimes
// without zone, timestamps RFC 3339 in UTC, JSON documents embedded. It is
// Debezium's JsonConverter payload with schemas.enable=false, not its
// schema wrapper.
//
// # Security
//
// TLS (Config.TLS) and SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512
// (Config.SASL) apply to every broker connection; the registry uses HTTPS
// with Registry.TLS and basic authentication. Passwords never appear in
// logs, errors or printed configurations (String and LogValue redact them).
//
// The in-test registry (package registrytest) is a test double of the
// Confluent REST API; deploy a real Schema Registry.
package kafka
