package sluice

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is a neutral logical type. Each Kind has exactly one Go representation
// for its non-NULL values, listed beside it; NULL is always the untyped nil,
// and [Unchanged] marks a value the source did not send.
//
// Sources convert their native values to these representations; sinks and
// transforms may rely on them without type switches over alternatives.
type Kind uint8

// The kinds and their Go representations.
const (
	KindInvalid   Kind = iota // never valid in a Column
	KindBool                  // bool
	KindInt                   // int64; Type.Bits is the source width (8, 16, 24, 32, 64)
	KindUint                  // uint64; Type.Bits is the source width (8, 16, 24, 32, 64)
	KindFloat32               // float32
	KindFloat64               // float64
	KindDecimal               // Decimal: exact text; Type.Precision and Type.Scale
	KindString                // string (UTF-8); Type.Length in characters, 0 if unbounded
	KindBytes                 // []byte; Type.Length in bytes, 0 if unbounded
	KindDate                  // Date: a civil date, zero date allowed
	KindTime                  // time.Duration: a time of day or a MySQL TIME, may be negative or ≥ 24 h; Type.Scale is the fractional digits
	KindDateTime              // time.Time in time.UTC holding the wall clock of a zone-less date-time; Type.Scale is the fractional digits
	KindTimestamp             // time.Time in time.UTC: an instant; Type.Scale is the fractional digits
	KindYear                  // int64 (MySQL YEAR: 0 or 1901..2155)
	KindEnum                  // string: the member's text; Type.Members lists them in order
	KindSet                   // string: members joined by commas in definition order; Type.Members lists them
	KindBit                   // uint64 holding the bits right-aligned; Type.Length is the number of bits (1..64)
	KindJSON                  // JSON: the document as compact UTF-8 text
	KindGeometry              // Geometry: OGC well-known binary; Type.SRID when known
	KindUUID                  // string: canonical lower-case 8-4-4-4-12 form
	kindCount
)

var kindNames = [kindCount]string{
	KindInvalid: "invalid", KindBool: "bool", KindInt: "int", KindUint: "uint",
	KindFloat32: "float32", KindFloat64: "float64", KindDecimal: "decimal",
	KindString: "string", KindBytes: "bytes", KindDate: "date", KindTime: "time",
	KindDateTime: "datetime", KindTimestamp: "timestamp", KindYear: "year",
	KindEnum: "enum", KindSet: "set", KindBit: "bit", KindJSON: "json",
	KindGeometry: "geometry", KindUUID: "uuid",
}

// String returns the kind's lower-case name ("uint", "timestamp", ...).
func (k Kind) String() string {
	if k < kindCount {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind returns the kind named s (as printed by Kind.String).
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if k != int(KindInvalid) && strings.EqualFold(n, s) {
			return Kind(k), nil
		}
	}
	return KindInvalid, fmt.Errorf("sluice: unknown kind %q", s)
}

// Type is a column's neutral type: a Kind plus the attributes that matter for
// that kind. Attributes that do not apply to the kind are zero.
type Type struct {
	Kind      Kind
	Bits      int      // KindInt, KindUint: storage width in bits
	Length    int      // KindString: characters; KindBytes: bytes; KindBit: bits; 0 = unbounded
	Fixed     bool     // KindString, KindBytes: fixed length (CHAR, BINARY)
	Precision int      // KindDecimal: total digits
	Scale     int      // KindDecimal: digits after the point; KindTime/DateTime/Timestamp: fractional-second digits (0..6)
	Members   []string // KindEnum, KindSet: the allowed values in definition order
	SRID      int      // KindGeometry: spatial reference id, 0 if unknown
}

// String renders the type compactly, e.g. "uint64", "decimal(12,2)",
// "string(255)", "timestamp(6)", "enum('a','b')". It is for messages and docs.
func (t Type) String() string {
	var b strings.Builder
	switch t.Kind {
	case KindInt, KindUint:
		fmt.Fprintf(&b, "%s%d", t.Kind, t.Bits)
	case KindDecimal:
		fmt.Fprintf(&b, "decimal(%d,%d)", t.Precision, t.Scale)
	case KindString, KindBytes, KindBit:
		b.WriteString(t.Kind.String())
		if t.Fixed {
			b.WriteString(" fixed")
		}
		if t.Length > 0 {
			fmt.Fprintf(&b, "(%d)", t.Length)
		}
	case KindTime, KindDateTime, KindTimestamp:
		fmt.Fprintf(&b, "%s(%d)", t.Kind, t.Scale)
	case KindEnum, KindSet:
		b.WriteString(t.Kind.String())
		b.WriteByte('(')
		for i, m := range t.Members {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(m))
		}
		b.WriteByte(')')
	default:
		b.WriteString(t.Kind.String())
	}
	return b.String()
}

// Equal reports whether two types are identical, members included.
func (t Type) Equal(u Type) bool {
	if t.Kind != u.Kind || t.Bits != u.Bits || t.Length != u.Length || t.Fixed != u.Fixed ||
		t.Precision != u.Precision || t.Scale != u.Scale || t.SRID != u.SRID || len(t.Members) != len(u.Members) {
		return false
	}
	for i := range t.Members {
		if t.Members[i] != u.Members[i] {
			return false
		}
	}
	return true
}

// Decimal is an exact decimal number in plain text: an optional '-', digits,
// and, when the column's scale is above zero, '.' followed by exactly Scale
// digits ("-12.50" for DECIMAL(5,2)). No exponent, no '+', no leading zeros
// beyond a single "0" before the point. Decimals are never float64.
type Decimal string

// Date is a civil date without a zone. The zero value is MySQL's zero date
// 0000-00-00, which a source emits only when configured to keep zero dates.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether d is the zero date 0000-00-00.
func (d Date) IsZero() bool { return d == Date{} }

// String renders d as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Time returns midnight of d in UTC.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// DaysSinceEpoch returns the number of days from 1970-01-01 to d.
func (d Date) DaysSinceEpoch() int64 {
	// Unix seconds, not Time.Sub: a Duration saturates at about 292 years,
	// which would turn 9999-12-31 into 2262-04-11. Midnight UTC is a whole
	// number of days, so the division is exact.
	return d.Time().Unix() / 86400
}

// ParseDate parses YYYY-MM-DD; 0000-00-00 gives the zero Date.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("sluice: date %q: want YYYY-MM-DD", s)
	}
	y, err1 := strconv.Atoi(s[:4])
	m, err2 := strconv.Atoi(s[5:7])
	d, err3 := strconv.Atoi(s[8:])
	if err1 != nil || err2 != nil || err3 != nil || m > 12 || d > 31 {
		return Date{}, fmt.Errorf("sluice: date %q: want YYYY-MM-DD", s)
	}
	return Date{y, time.Month(m), d}, nil
}

// JSON is a JSON document as compact UTF-8 text. Sources normalize documents
// to compact form so that the same document read two ways compares equal.
type JSON []byte

// Geometry is a spatial value in OGC well-known binary (WKB), without the
// SRID prefix MySQL stores; the column's Type.SRID carries the SRID.
type Geometry []byte

// unchanged is the type of Unchanged.
type unchanged struct{}

// String renders the sentinel for debugging output.
func (unchanged) String() string { return "<unchanged>" }

// Unchanged is the value of a column the source did not send (a PostgreSQL
// TOAST value untouched by an UPDATE). It appears only in Change.After of an
// update. Sinks must leave such a column as it is in the target; they must
// never write it as NULL or as a placeholder.
var Unchanged any = unchanged{}

// IsUnchanged reports whether v is the Unchanged sentinel.
func IsUnchanged(v any) bool { _, ok := v.(unchanged); return ok }
