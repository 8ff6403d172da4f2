// Package mysql is the MySQL/MariaDB source: a consistent initial snapshot
// of the selected tables, then the row-based binlog from exactly the
// snapshot's position, with values in sluice's Kind representations and
// each binlog row decoded with the schema in force when it was written.
//
//	src, err := mysql.New(mysql.Config{
//		Addr: "127.0.0.1:3306", User: "repl", Password: pw,
//		Tables: []string{"shop.*", "crm.customers"}, Exclude: []string{"shop.tmp_*"},
//	})
//	err = src.Run(ctx, checkpoint, emitter) // snapshot (if no checkpoint), then stream
//
// New(cfg) validates the Config and does not connect. *Source implements
// source.Source and source.Prechecker. Flavor (MySQL or MariaDB) is
// detected from VERSION().
//
// # Snapshot and handoff (S5)
//
// The snapshot is one consistent cut with the binlog position P it
// corresponds to:
//
//  1. A lock connection runs LOCK TABLES t1 READ, t2 READ, ... on the
//     selected tables (this waits for in-flight writers to commit and
//     blocks new ones). While it is held, the table schemas are read from
//     information_schema and N worker connections each run SET time_zone =
//     '+00:00' and START TRANSACTION WITH CONSISTENT SNAPSHOT. Since no
//     selected table can change meanwhile, all N snapshots see the same
//     state of the selected tables.
//  2. P is read while still locked: on MariaDB from the first worker's
//     binlog_snapshot_file/binlog_snapshot_position (exactly its snapshot's
//     point), on MySQL from SHOW MASTER STATUS. Every commit on a selected
//     table before P is in the snapshots; every one after P happens after
//     UNLOCK TABLES, so is not. The GTID set at P comes from
//     BINLOG_GTID_POS (MariaDB) or Executed_Gtid_Set (MySQL).
//  3. UNLOCK TABLES. The lock lasts only as long as opening N transactions.
//     (MariaDB without the LOCK TABLES privilege: one worker, no lock,
//     binlog_snapshot_* alone give the cut.)
//  4. Tables are split into segments: a single-column integer key of a
//     large table is cut into 2N ranges by MIN/MAX, other tables are one
//     segment. Workers take segments and read them in keyset chunks
//     (WHERE key > last ORDER BY key LIMIT ChunkSize, composite keys as an
//     OR of prefixes — never OFFSET) with the binary protocol, so FLOAT
//     values are exact. A chunk ends at ChunkSize rows or ChunkBytes bytes,
//     whichever comes first, so memory stays near ChunkBytes × (2N+1).
//  5. One goroutine emits the chunks as OpRead changes; the last row of
//     each chunk carries a Pos holding P, the table schemas at P, and every
//     segment's progress (last key emitted, done). Progress per table goes
//     to Emitter.Progress with the information_schema row estimate.
//  6. When every segment is done, the binlog is streamed from P.
//
// Resuming a crashed snapshot from such a Pos: the segments already done
// keep the rows emitted from the first snapshot (state at P); the remaining
// key ranges (keys after each segment's last key) are read in a new
// consistent snapshot, at some later position P2, and streaming then starts
// at the original P, not at P2. This converges: for any key, if no change
// touched it between P and P2, its P2 value equals its P value; if some did,
// the binlog from P replays every change of that key in order with full row
// images, and sinks apply them as upserts and deletes, so once the stream
// passes P2 the key holds its last image before P2 — which is what the
// source had at P2 — and from then on the stream is simply applied. Rows
// read from the first snapshot (keys up to the last key) are at P and the
// stream from P brings them forward. Changes between P and P2 may thus be
// replayed over newer rows (inserts of rows that exist): sinks treat them
// idempotently, as the Sink contract requires. If a remaining table's
// schema changed in between, Run fails and asks for a re-snapshot.
// TestSnapshotResume crashes a snapshot with writers running and checks
// that the target equals the source.
//
// # Binlog streaming (S1)
//
// The binlog is read with go-mysql's BinlogSyncer (ParseTime on, its own
// reconnects off). Positions are a JSON document: flavor, binlog file and
// offset, the GTID set executed up to there, the snapshot state if the
// snapshot is unfinished, and the tracked schemas. A Pos is attached only to
// the last change of a transaction (XID or COMMIT event, or a DDL
// statement): each change is held back until the next arrives, so the last
// one is known when the commit event comes. A transaction that touches no
// selected table emits nothing, except an OpHeartbeat with its Pos at most
// once per HeartbeatPeriod so the checkpoint advances; server heartbeats on
// an idle binlog become OpHeartbeat with the current Time and Pos, so lag
// stays true.
//
// Runs resume by file and offset, or by the position's GTID set with
// Config.ResumeByGTID (after a failover); StartGTID starts from a GTID set. On a
// dropped connection the source reconnects, within RetryWindow, at the last
// transaction boundary and drops the changes of the interrupted transaction
// it had already emitted, so a transaction is never skipped, split, or
// repeated (TestReconnectMidTransaction). A position whose binlog file was
// purged fails before anything is emitted with an error wrapping
// source.ErrPositionLost that names the file and suggests a new snapshot.
// Back-pressure: Emit blocks the reader; at most 1024 decoded events (each
// at most binlog_row_event_max_size) wait in between. A connection is
// declared dead when no event or server heartbeat arrived for 3 ×
// HeartbeatPeriod + 5s while the source was not blocked in Emit, so a
// paused or slow sink is never mistaken for a network failure.
//
// # Schema history (S3)
//
// Each binlog row is decoded with the schema in force when it was written.
// The tracked schemas start from information_schema at the snapshot (or at
// StartNow/StartFilePos/StartGTID — where the user must make sure no DDL
// happened since the given position) and are carried inside every Position.
// DDL statements in the binlog (CREATE/DROP/RENAME/TRUNCATE TABLE, ALTER
// TABLE ADD/DROP/MODIFY/CHANGE/RENAME COLUMN, primary key changes, table
// renames) are parsed with the TiDB SQL parser and applied to the previous
// tracked version — never re-read from today's information_schema — and
// each new version is emitted as OpSchema (Table, OldTable, DDL; Dropped for
// DROP TABLE), TRUNCATE as OpTruncate. Restarting from a position before an
// ALTER therefore decodes the old rows with the old columns
// (TestSchemaHistory). A TableMapEvent whose column count disagrees with the
// tracked version (a DDL the parser could not follow) stops the source with
// a schema-drift error naming the table; DDL the parser rejects falls back
// to reloading the table from information_schema, with a warning.
//
// # Values (S2)
//
// MySQL → Kind: TINYINT..BIGINT → KindInt/KindUint with Bits 8/16/24/32/64
// (TINYINT(1) stays an 8-bit int; Native keeps "tinyint(1)"); DECIMAL →
// Decimal with exactly Scale fraction digits; FLOAT → float32; DOUBLE →
// float64; BIT(n) → uint64; CHAR/VARCHAR/TEXT → string (latin1 decoded as
// MySQL's cp1252); BINARY/VARBINARY/BLOB → []byte (BINARY(n) padded to n
// bytes in both paths); DATE → sluice.Date; TIME → time.Duration (negative
// and over 24 h); DATETIME → time.Time in UTC holding the wall clock;
// TIMESTAMP → the UTC instant (the snapshot reads with session time_zone
// +00:00, the binlog stores epoch seconds, so neither the server's nor the
// host's zone matters); YEAR → int64; ENUM/SET → their text (binlog indexes
// and bitmasks are mapped through the members); JSON → compact sluice.JSON
// (MariaDB's JSON, a LONGTEXT with a json_valid check, is recognised from
// information_schema.CHECK_CONSTRAINTS or the DDL; MySQL's binary JSON is
// canonicalised — sorted keys, shortest numbers — because the server's text
// and go-mysql's decoding of the binary form order and print differently); GEOMETRY → WKB with
// MySQL's 4-byte SRID prefix removed (Type.SRID from the column's declared
// SRID, 0 if none). Zero dates
// (and dates with a zero month or day) are NULL by default; ZeroDateKeep
// gives sluice.Date{} and time.Time{}, ZeroDateError fails. Each column gets
// a converter per table version; the hot path is a switch, no reflection or
// fmt. TestValueFidelity checks every type at its edges, snapshot and
// binlog against the expected values, with the host in Asia/Kolkata and the
// server at -07:00.
//
// # Precheck (P4)
//
// Precheck reports connectivity and credentials, log_bin, binlog_format
// ROW, binlog_row_image FULL, server_id (set, and not ours), privileges
// (REPLICATION SLAVE, REPLICATION CLIENT/BINLOG MONITOR, SELECT, and LOCK
// TABLES on MySQL), that each literally named table exists, and per table:
// primary key (or Config.Keys), storage engine, column types and character
// sets. Run performs the same checks first and returns a
// sluice.PrecheckError before emitting anything. A wrong password fails at
// once; an unreachable server is retried with backoff for RetryWindow.
//
// # Limitations
//
//   - Every Position carries the tracked schemas (compact JSON, roughly 50
//     bytes a column), so positions grow with the number of selected columns.
//   - The selection is static: a table that starts matching later (a changed
//     Config.Tables, or a pattern match created before the start position) is
//     streamed with its current schema and no snapshot; a table created by
//     CREATE TABLE in the stream is tracked from its DDL.
//   - DDL the TiDB parser rejects (some MariaDB-only syntax such as CREATE OR
//     REPLACE, spatial column types) falls back to the table's current
//     schema, which is right unless later DDL already changed it.
//   - A DDL on a table whose interrupted snapshot is resumed, between the
//     crash and the restart, fails the resume with a request to re-snapshot.
//   - MySQL 8 partial JSON updates (binlog_row_value_options=PARTIAL_JSON)
//     are not decoded; compressed MySQL transactions are unpacked.
//   - Column character sets other than utf8mb4, utf8mb3, ascii and latin1
//     fail the precheck.
//   - Snapshot handoff, streaming and DDL tracking are tested against
//     MariaDB 10.11; the MySQL-only paths (SHOW MASTER STATUS under the lock,
//     binary JSON) are untested here.
package mysql
