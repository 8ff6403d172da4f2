// Package transform holds the Transform contract and the built-in
// transforms a pipeline applies between its source and its sinks:
//
//   - [Rename] (SPEC T1): schema (database) → schema, table and column
//     renames, column deselection, and several source tables merged into one
//     target table;
//   - [Filter] (SPEC T2): a SQL WHERE-style condition per table, in the
//     language of package [github.com/sluicecdc/sluice/transform/expr];
//   - [Ops] (SPEC T3): which operations (INSERT, UPDATE, DELETE, TRUNCATE,
//     DDL) are synchronized;
//   - [TypeMap] (SPEC T4): per-column and per-native-type overrides of the
//     neutral type a column gets in the target.
//
// [Chain] composes transforms; a pipeline applies pipeline.Config.Transforms
// in order the same way.
//
// # Binding
//
// A Transform is bound once per table version (Bind with a *sluice.Table),
// which does every name lookup, pattern match, expression compilation and
// type decision; the returned Mapper then rewrites that version's changes
// by precomputed indexes, with no string work and, for renames, filters and
// operation selection, no allocation per row. Errors in a transform's
// configuration surface twice, early: the constructors (NewRename,
// NewFilter, NewOps, NewTypeMap) check everything that needs no table (a
// filter's syntax, with the byte offset), and Bind checks the rest against
// each table (unknown columns, type mismatches, impossible conversions),
// which the pipeline does in its precheck, before anything is written.
//
// Each transform sees the table as the transforms before it left it: a
// filter after a rename names the renamed table and columns.
//
// Transforms that make new table versions (Rename, TypeMap) return the same
// output pointer every time they bind the same input pointer, and Rename
// returns one pointer for every source table of a merge that has the same
// shape, so sinks see one version per target shape. Mappers are used by one
// goroutine at a time (the pipeline serializes Map); the transforms
// themselves are safe for concurrent Bind.
//
// # Name mapping
//
// Rules match tables by exact name or glob (shop_*.orders, *.orders,
// "name.with.dots".t; see [ParseTablePattern]). Renaming a table or column
// passes rows through untouched (0 allocations per row). Dropping columns
// must build a new row, since rows are immutable and shared; the rows are
// carved from slabs of 128, which amortizes the allocation to 1/128 per row.
// Key columns cannot be dropped. Two source tables landing on one target
// without a [MergeRule] fail Bind with [ErrNameClash].
//
// A merge requires the key to be unique across the merged sources; when it
// is not (two shards with their own auto-increment ids), set
// MergeRule.SourceColumn and SourceInKey to add the source table to the row
// and the key. TRUNCATE and DROP TABLE of one merged source are not
// forwarded.
//
// # Filters
//
// A row passes when the condition is TRUE (not FALSE, not UNKNOWN from a
// NULL). The same compiled predicate decides snapshot reads and streamed
// changes, so both give the same target rows. An UPDATE whose row moves into
// the filter becomes an INSERT of the new row; one moving out becomes a
// DELETE of the old row; one outside before and after is dropped. Strings
// compare byte-wise (a binary collation): MySQL's default collations
// compare case-insensitively, so 'Paid' and 'paid' differ here while they
// are equal in a MySQL WHERE clause. The snapshot query is not narrowed by
// the filter (no push-down): the source reads every row and the filter
// drops them, which keeps snapshot and stream identical by construction.
//
// # Operation selection
//
// Snapshot reads (OpRead) and heartbeats always pass. Dropping DDL
// (OpSchema) hides schema changes from the sink, but later rows still
// carry the new table version, so no row is misread; see [Ops].
//
// # Type overrides and the conversion matrix
//
// An override replaces the column's neutral type (and clears its Native
// text, which would no longer describe the values) in the output table;
// sinks create and write the column from the neutral type. A conversion is
// allowed when the matrix below has an x (= is the same kind with other
// attributes: width, length, precision, scale). Conversions marked x or =
// check every value and fail Map with [ErrConvert], naming table, column and
// value, when it does not fit (a tinyint 2 to bool, 300 to an 8-bit
// integer, text longer than the target, a decimal with more digits than the
// target scale, a datetime with a time of day to date); NULL and unchanged
// values pass. Integer → bool accepts only 0 and 1. Decimal → float rounds to
// the nearest float (the override asks for it); every other conversion is
// exact. Anything without an x fails Bind with [ErrNoConversion].
//
//	from\to bool int  uint f32  f64  dec  str  byt  date time dt   ts   year enum set  bit  json geo  uuid
//	bool    =    x    x    .    .    x    x    .    .    .    .    .    .    .    .    x    .    .    .
//	int     x    =    x    x    x    x    x    .    .    .    .    .    x    .    .    x    .    .    .
//	uint    x    x    =    x    x    x    x    .    .    .    .    .    x    .    .    x    .    .    .
//	f32     .    x    x    =    x    x    x    .    .    .    .    .    .    .    .    .    .    .    .
//	f64     .    x    x    x    =    x    x    .    .    .    .    .    .    .    .    .    .    .    .
//	dec     .    x    x    x    x    =    x    .    .    .    .    .    .    .    .    .    .    .    .
//	str     .    .    .    .    .    .    =    x    .    .    .    .    .    x    x    .    x    .    x
//	byt     .    .    .    .    .    .    x    =    .    .    .    .    .    .    .    .    .    x    x
//	date    .    .    .    .    .    .    x    .    =    .    x    x    .    .    .    .    .    .    .
//	time    .    .    .    .    .    .    x    .    .    =    .    .    .    .    .    .    .    .    .
//	dt      .    .    .    .    .    .    x    .    x    .    =    x    .    .    .    .    .    .    .
//	ts      .    .    .    .    .    .    x    .    x    .    x    =    .    .    .    .    .    .    .
//	year    .    x    x    .    .    x    x    .    .    .    .    .    =    .    .    .    .    .    .
//	enum    .    .    .    .    .    .    x    .    .    .    .    .    .    =    .    .    .    .    .
//	set     .    .    .    .    .    .    x    .    .    .    .    .    .    .    =    .    .    .    .
//	bit     x    x    x    .    .    .    x    .    .    .    .    .    .    .    .    =    .    .    .
//	json    .    .    .    .    .    .    x    x    .    .    .    .    .    .    .    .    =    .    .
//	geo     .    .    .    .    .    .    .    x    .    .    .    .    .    .    .    .    .    =    .
//	uuid    .    .    .    .    .    .    x    x    .    .    .    .    .    .    .    .    .    .    =
//
// Abbreviations: f32/f64 float32/float64, dec decimal, str string, byt
// bytes, dt datetime, ts timestamp, geo geometry. Rendered text: integers and
// decimals in plain digits, floats in shortest form, dates YYYY-MM-DD,
// datetimes and timestamps "YYYY-MM-DD HH:MM:SS[.fraction]" (UTC), times
// [-]HH:MM:SS[.fraction], bools true/false; UUID ↔ 16 bytes is the binary
// form.
package transform
