// Package sluice is the data model of Sluice, an embeddable change-data-capture
// library: a Source (MySQL/MariaDB binlog, PostgreSQL logical replication)
// feeds Transforms (name mapping, row filters, operation selection, type
// mapping) and one or more Sinks (PostgreSQL, MySQL, Kafka), run by a
// pipeline inside your own process: schema sync, initial full sync, then
// continuous incremental sync from exactly where the full sync ended.
//
// A complete MySQL→PostgreSQL program:
//
//	src, err := mysql.New(mysql.Config{
//		Addr: "127.0.0.1:3306", User: "repl", Password: os.Getenv("MYSQL_PASSWORD"),
//		Tables: []string{"shop.*"},
//	})
//	if err != nil { log.Fatal(err) }
//	dst, err := postgres.New(ctx, postgres.Config{ConnString: os.Getenv("PG_URL")})
//	if err != nil { log.Fatal(err) }
//	p, err := pipeline.New(pipeline.Config{Name: "shop", Source: src, Sinks: []sink.Sink{dst}})
//	if err != nil { log.Fatal(err) }
//	err = p.Run(ctx) // blocks: snapshot, then streams until ctx is cancelled
//
// (packages github.com/sluicecdc/sluice/source/mysql, .../sink/postgres,
// .../sink and .../pipeline).
//
// # Data model
//
// A [Table] is one immutable version of a table's schema: [Column]s with a
// neutral [Type] (a [Kind] plus precision, scale, length, members) and the
// source's Native type text, and the indexes of its key columns. A schema
// change makes a new *Table, so a pointer identifies a version.
//
// A [Row] is a []any aligned with Table.Columns. Each Kind has exactly one Go
// representation (see the Kind constants): unsigned integers are uint64,
// decimals are exact [Decimal] text, timestamps are time.Time in UTC, dates
// are civil [Date]s, MySQL TIME is a time.Duration (negative and beyond 24 h
// allowed), JSON is compact [JSON] text, enum and set values are their
// strings, bit strings are uint64, geometry is WKB. NULL is nil; a value the
// source did not send (PostgreSQL unchanged TOAST) is [Unchanged].
//
// A [Change] is one event in the source's commit order: a snapshot read,
// insert, update, delete, truncate, schema change or heartbeat. The last
// change of a source transaction (or of a snapshot chunk) carries the
// [Position] to resume from; only such positions are checkpointed.
package sluice
