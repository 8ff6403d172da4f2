// Package expr is the row-filter language of Sluice (SPEC T2): a SQL
// WHERE-style condition, parsed once, bound to one table version, and
// evaluated per row with no string work and no allocation.
//
// # Language
//
//	cond      := cond OR cond | cond AND cond | NOT cond | ( cond ) | predicate
//	predicate := operand op operand            op: = != <> < > <= >=
//	           | operand [NOT] IN ( literal, ... )
//	           | operand [NOT] BETWEEN operand AND operand
//	           | operand [NOT] LIKE 'pattern' [ESCAPE 'c']
//	           | operand IS [NOT] NULL
//	           | bool-column | TRUE | FALSE | NULL
//	operand   := column | literal
//	column    := name | `quoted name` | "quoted name"
//	literal   := 12 | -3.5 | 1e3 | 'text' | DATE '2024-01-01'
//	           | TIME '10:00:00' | TIMESTAMP '2024-01-01 10:00:00' | TRUE | FALSE | NULL
//
// Precedence, loosest first: OR, AND, NOT, then the predicates. Keywords are
// case-insensitive; AND OR NOT IN BETWEEN LIKE ESCAPE IS NULL TRUE FALSE are
// reserved (quote a column with such a name). A bare column name matches
// exactly, else case-insensitively when that is unambiguous; a quoted name
// matches exactly. In string literals a doubled single quote stands for
// one, and backslash is an ordinary character. In LIKE, % matches any run, _ one character (one byte
// for a bytes column), and the escape character is \ unless ESCAPE names
// another (an empty ESCAPE string for none).
//
// # Types
//
// Binding converts each literal once to the Go representation of the
// column's Kind (see sluice.Kind) and compares values of that kind:
//
//   - int, uint, year, bit: exactly against any numeric literal ('12' too):
//     id > 2.5 is id >= 3, id = 2.5 is never true, and literals beyond the
//     64-bit range compare correctly;
//   - decimal: exactly, digit by digit, never through float64 (1e3 and
//     '1000.00' equal 1000);
//   - float32, float64: as floats (a float32 column compares with the literal
//     rounded to float32, so f = 0.1 finds the value stored from 0.1); NaN is
//     above every number, as in PostgreSQL;
//   - string, enum, set, uuid, bytes: byte-wise, case-sensitive (a binary
//     collation; MySQL's default collations ignore case, so results differ
//     for 'Paid' vs 'paid'). An enum compared for equality with a value that
//     is not a member is a type error (usually a typo or a case mismatch).
//     UUID literals are lower-cased;
//   - date: against 'YYYY-MM-DD' (or a date-time: a date is midnight);
//     datetime (zone-less) and timestamp (UTC instant) as time.Time, against
//     'YYYY-MM-DD[ HH:MM:SS[.f]]' or RFC 3339 (a zone is allowed for
//     timestamps only; without a zone the literal is UTC);
//   - time: as time.Duration against '[-][D ]HH:MM[:SS[.f]]';
//   - bool: against TRUE, FALSE, 1, 0.
//
// JSON and geometry columns admit only IS [NOT] NULL. Two columns compare
// when their kinds are of one family (both integers, both strings, ...).
// A literal that does not fit its column (price > 'abc', name = 5) is a
// type error.
//
// # NULL
//
// Evaluation follows SQL's three-valued logic: a comparison with NULL is
// UNKNOWN, NOT UNKNOWN is UNKNOWN, FALSE AND UNKNOWN is FALSE, TRUE OR
// UNKNOWN is TRUE, x IN (1, NULL) is TRUE or UNKNOWN. A filter keeps a row
// only when the condition is TRUE.
//
// # Errors
//
// [Parse], [Compile] and [Verify] return an *[Error] with the byte offset
// (Pos) of the offending token and one of [ErrSyntax], [ErrUnknownColumn],
// [ErrType]; 0 <= Pos <= len(source), where len(source) means the input
// ended too early.
package expr
