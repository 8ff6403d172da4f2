package mysql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluicecdc/sluice"
)

// errZeroDate is returned by a converter under ZeroDateError.
var errZeroDate = errors.New("zero date")

// conv converts one column's values, from the snapshot's binary-protocol
// values and from go-mysql's binlog values, to the Kind representation. One
// is built per column per table version; the hot path is a switch on kind
// and a type switch on the value, no reflection and no fmt.
type conv struct {
	name     string
	kind     sluice.Kind
	bits     int
	latin1   bool
	fixedLen int // BINARY(n): pad binlog values to n bytes
	members  []string
	zero     ZeroDate
	// canonJSON canonicalises JSON (MySQL: the server prints binary JSON
	// with its own key order and number forms, go-mysql with others).
	canonJSON bool
}

func newConvs(m *tableMeta, zero ZeroDate, flavor string) []conv {
	cs := make([]conv, len(m.t.Columns))
	for i, c := range m.t.Columns {
		cv := conv{name: c.Name, kind: c.Type.Kind, bits: c.Type.Bits, members: c.Type.Members, zero: zero,
			canonJSON: flavor == gomysql.MySQLFlavor && c.Type.Kind == sluice.KindJSON && strings.EqualFold(c.Native, "json")}
		cv.latin1 = m.charsets[i] == "latin1"
		if c.Type.Kind == sluice.KindBytes && c.Type.Fixed {
			cv.fixedLen = c.Type.Length
		}
		cs[i] = cv
	}
	return cs
}

func (c *conv) bad(v any) error {
	return fmt.Errorf("column %q (%s): unexpected value of type %T", c.name, c.kind, v)
}

func (c *conv) zeroValue() (any, error) {
	switch c.zero {
	case ZeroDateKeep:
		if c.kind == sluice.KindDate {
			return sluice.Date{}, nil
		}
		return time.Time{}, nil
	case ZeroDateError:
		return nil, fmt.Errorf("column %q: %w (configure ZeroDate to keep or null them)", c.name, errZeroDate)
	}
	return nil, nil
}

// fromSnapshot converts a value read with the binary protocol and a session
// time_zone of +00:00. Byte slices may be reused by the driver: they are
// copied.
func (c *conv) fromSnapshot(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case sluice.KindInt, sluice.KindYear:
		if x, ok := v.(int64); ok {
			return x, nil
		}
	case sluice.KindUint:
		switch x := v.(type) {
		case int64:
			return uint64(x), nil
		case []byte:
			return strconv.ParseUint(string(x), 10, 64)
		}
	case sluice.KindFloat32:
		switch x := v.(type) {
		case float32:
			return x, nil
		case float64:
			return float32(x), nil
		}
	case sluice.KindFloat64:
		if x, ok := v.(float64); ok {
			return x, nil
		}
	case sluice.KindDecimal:
		if x, ok := v.([]byte); ok {
			return sluice.Decimal(x), nil
		}
	case sluice.KindBit:
		if x, ok := v.([]byte); ok {
			var u uint64
			for _, b := range x {
				u = u<<8 | uint64(b)
			}
			return u, nil
		}
	case sluice.KindString, sluice.KindEnum, sluice.KindSet:
		if x, ok := v.([]byte); ok {
			return string(x), nil // the server converts text to utf8mb4 for us
		}
	case sluice.KindBytes:
		if x, ok := v.([]byte); ok {
			return bytes.Clone(x), nil
		}
	case sluice.KindJSON:
		if x, ok := v.([]byte); ok {
			return c.json(x)
		}
	case sluice.KindGeometry:
		if x, ok := v.([]byte); ok {
			return stripSRID(x), nil
		}
	case sluice.KindDate:
		if x, ok := v.([]byte); ok {
			return c.date(x)
		}
	case sluice.KindDateTime, sluice.KindTimestamp:
		if x, ok := v.([]byte); ok {
			return c.dateTime(x)
		}
	case sluice.KindTime:
		if x, ok := v.([]byte); ok {
			return parseDuration(x)
		}
	}
	return nil, c.bad(v)
}

// json normalizes a document the same way on both paths: MySQL binary JSON
// in one canonical form, MariaDB text JSON compacted.
func (c *conv) json(b []byte) (any, error) {
	if c.canonJSON {
		return canonicalJSON(b)
	}
	return compactJSON(b)
}

// fromBinlog converts a value decoded by go-mysql (ParseTime on, UseDecimal
// off). Strings and byte slices from go-mysql alias the event's own buffer,
// which is never reused, so they are kept without copying where the kind's
// representation allows it.
func (c *conv) fromBinlog(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case sluice.KindInt:
		switch x := v.(type) {
		case int8:
			return int64(x), nil
		case int16:
			return int64(x), nil
		case int32:
			return int64(x), nil
		case int64:
			return v, nil // already boxed: no allocation
		}
	case sluice.KindUint:
		switch x := v.(type) {
		case int8:
			return uint64(uint8(x)), nil
		case int16:
			return uint64(uint16(x)), nil
		case int32:
			if c.bits == 24 {
				return uint64(uint32(x) & 0xFFFFFF), nil
			}
			return uint64(uint32(x)), nil
		case int64:
			return uint64(x), nil
		}
	case sluice.KindYear:
		if x, ok := v.(int); ok {
			return int64(x), nil
		}
	case sluice.KindFloat32:
		if _, ok := v.(float32); ok {
			return v, nil
		}
	case sluice.KindFloat64:
		if _, ok := v.(float64); ok {
			return v, nil
		}
	case sluice.KindDecimal:
		if x, ok := v.(string); ok {
			return sluice.Decimal(x), nil
		}
	case sluice.KindBit:
		if x, ok := v.(int64); ok {
			return uint64(x), nil
		}
	case sluice.KindString:
		switch x := v.(type) {
		case string:
			if c.latin1 {
				return latin1ToUTF8([]byte(x)), nil
			}
			return v, nil
		case []byte:
			if c.latin1 {
				return latin1ToUTF8(x), nil
			}
			return string(x), nil
		}
	case sluice.KindBytes:
		var b []byte
		switch x := v.(type) {
		case string:
			b = []byte(x)
		case []byte:
			b = x
		default:
			return nil, c.bad(v)
		}
		if c.fixedLen > len(b) { // the binlog strips BINARY(n) padding
			p := make([]byte, c.fixedLen)
			copy(p, b)
			b = p
		}
		return b, nil
	case sluice.KindEnum:
		if x, ok := v.(int64); ok {
			if x <= 0 || int(x) > len(c.members) {
				return "", nil // MySQL's invalid-value enum member ''
			}
			return c.members[x-1], nil
		}
	case sluice.KindSet:
		if x, ok := v.(int64); ok {
			var sb strings.Builder
			for i, m := range c.members {
				if x&(1<<uint(i)) != 0 {
					if sb.Len() > 0 {
						sb.WriteByte(',')
					}
					sb.WriteString(m)
				}
			}
			return sb.String(), nil
		}
	case sluice.KindJSON:
		var b []byte
		switch x := v.(type) {
		case string:
			b = []byte(x)
		case []byte:
			b = x
		default:
			return nil, c.bad(v)
		}
		if c.latin1 { // MariaDB JSON declared on a latin1 LONGTEXT
			b = []byte(latin1ToUTF8(b))
		}
		return c.json(b)
	case sluice.KindGeometry:
		if x, ok := v.([]byte); ok {
			return stripSRID(x), nil
		}
	case sluice.KindDate:
		if x, ok := v.(string); ok {
			return c.date([]byte(x))
		}
	case sluice.KindDateTime:
		switch x := v.(type) {
		case time.Time:
			return x, nil // built in UTC from the wall clock by go-mysql
		case string:
			return c.dateTime([]byte(x))
		}
	case sluice.KindTimestamp:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil // epoch-based in the binlog: an instant
		case string:
			return c.dateTime([]byte(x))
		}
	case sluice.KindTime:
		if x, ok := v.(string); ok {
			return parseDuration([]byte(x))
		}
	}
	return nil, c.bad(v)
}

func (c *conv) date(b []byte) (any, error) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return nil, fmt.Errorf("column %q: bad date %q", c.name, b)
	}
	y, m, d := atoi(b[0:4]), atoi(b[5:7]), atoi(b[8:10])
	if y < 0 || m < 0 || d < 0 {
		return nil, fmt.Errorf("column %q: bad date %q", c.name, b)
	}
	if m == 0 || d == 0 {
		if y == 0 && m == 0 && d == 0 {
			return c.zeroValue()
		}
		return c.zeroValue()
	}
	return sluice.Date{Year: y, Month: time.Month(m), Day: d}, nil
}

// dateTime parses "YYYY-MM-DD HH:MM:SS[.ffffff]" as a UTC wall clock.
func (c *conv) dateTime(b []byte) (any, error) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return nil, fmt.Errorf("column %q: bad date-time %q", c.name, b)
	}
	y, mo, d := atoi(b[0:4]), atoi(b[5:7]), atoi(b[8:10])
	h, mi, s := atoi(b[11:13]), atoi(b[14:16]), atoi(b[17:19])
	if y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 {
		return nil, fmt.Errorf("column %q: bad date-time %q", c.name, b)
	}
	if mo == 0 || d == 0 {
		return c.zeroValue()
	}
	ns := 0
	if len(b) > 20 && b[19] == '.' {
		ns = fracNanos(b[20:])
		if ns < 0 {
			return nil, fmt.Errorf("column %q: bad date-time %q", c.name, b)
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC), nil
}

// parseDuration parses a MySQL TIME "[-]H+:MM:SS[.ffffff]".
func parseDuration(b []byte) (any, error) {
	orig := b
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	i := bytes.IndexByte(b, ':')
	if i < 1 || len(b) < i+6 || b[i+3] != ':' {
		return nil, fmt.Errorf("bad time %q", orig)
	}
	h, m, s := atoi(b[:i]), atoi(b[i+1:i+3]), atoi(b[i+4:i+6])
	if h < 0 || m < 0 || s < 0 {
		return nil, fmt.Errorf("bad time %q", orig)
	}
	ns := 0
	if len(b) > i+7 && b[i+6] == '.' {
		ns = fracNanos(b[i+7:])
		if ns < 0 {
			return nil, fmt.Errorf("bad time %q", orig)
		}
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + time.Duration(ns)
	if neg {
		d = -d
	}
	return d, nil
}

func atoi(b []byte) int {
	n := 0
	if len(b) == 0 {
		return -1
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// fracNanos converts up to 9 fraction digits to nanoseconds.
func fracNanos(b []byte) int {
	if len(b) == 0 || len(b) > 9 {
		return -1
	}
	n := atoi(b)
	if n < 0 {
		return -1
	}
	for i := len(b); i < 9; i++ {
		n *= 10
	}
	return n
}

// compactJSON returns the document in compact form (a fresh slice).
func compactJSON(b []byte) (any, error) {
	var buf bytes.Buffer
	buf.Grow(len(b))
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("invalid JSON document: %w", err)
	}
	return sluice.JSON(buf.Bytes()), nil
}

// canonicalJSON renders a document compactly with object keys sorted,
// strings escaped only where JSON requires it, integers as written and
// other numbers in Go's shortest float64 form, so that MySQL's text output
// and go-mysql's decoding of binary JSON give the same bytes.
func canonicalJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON document: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(len(b))
	writeCanon(&buf, v)
	return sluice.JSON(buf.Bytes()), nil
}

func writeCanon(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeCanonString(buf, k)
			buf.WriteByte(':')
			writeCanon(buf, x[k])
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeCanon(buf, e)
		}
		buf.WriteByte(']')
	case string:
		writeCanonString(buf, x)
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				s = strconv.FormatFloat(f, 'g', -1, 64)
			}
		}
		buf.WriteString(s)
	case bool:
		if x {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	default:
		buf.WriteString("null")
	}
}

func writeCanonString(buf *bytes.Buffer, s string) {
	e := json.NewEncoder(buf)
	e.SetEscapeHTML(false)
	e.Encode(s)                 //nolint:errcheck // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

// stripSRID removes MySQL's 4-byte little-endian SRID prefix from a stored
// geometry, leaving OGC WKB.
func stripSRID(b []byte) sluice.Geometry {
	if len(b) < 5 {
		return sluice.Geometry(bytes.Clone(b))
	}
	return sluice.Geometry(bytes.Clone(b[4:]))
}

// cp1252 high half: MySQL's latin1 is Windows-1252, with the five undefined
// bytes mapped to the C1 controls of the same number.
var cp1252 = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

func latin1ToUTF8(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for _, c := range b {
		switch {
		case c < 0x80:
			out = append(out, c)
		case c < 0xA0:
			out = utf8.AppendRune(out, cp1252[c-0x80])
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return string(out)
}
