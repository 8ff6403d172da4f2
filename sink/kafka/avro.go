package kafka

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/sluicecdc/sluice"
)

// Avro binary encoding primitives (Avro 1.11 specification, "Binary
// Encoding"): ints and longs are zig-zag varints, strings and bytes are a
// long length followed by the data, floats and doubles are little-endian
// IEEE 754, a union is the branch index (a long) followed by the value.

func appendLong(b []byte, v int64) []byte {
	u := uint64((v << 1) ^ (v >> 63))
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

func appendAvroString(b []byte, s string) []byte {
	b = appendLong(b, int64(len(s)))
	return append(b, s...)
}

func appendAvroBytes(b []byte, p []byte) []byte {
	b = appendLong(b, int64(len(p)))
	return append(b, p...)
}

func appendAvroBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendFn appends the encoding of one non-NULL value. It fails only when v
// is not the Go representation of the column's kind.
type appendFn func(b []byte, v any) ([]byte, error)

func badValue(v any, want string) error {
	return fmt.Errorf("value of Go type %T is not the representation of kind %s", v, want)
}

// avroColumn is the Avro mapping of one column: its type (without the null
// union) as a JSON-able value, and its encoder.
type avroColumn struct {
	typ any
	enc appendFn
}

// avroMapping maps a column type to Avro. deb selects Debezium's semantic
// types; named tracks named types already defined in the schema being built
// (a named type is defined once and referenced by name afterwards).
func avroMapping(t sluice.Type, deb bool, named map[string]bool) (avroColumn, error) {
	connect := func(m map[string]any, name string, params map[string]string) map[string]any {
		if deb {
			m["connect.name"] = name
			if params != nil {
				m["connect.parameters"] = params
			}
		}
		return m
	}
	switch t.Kind {
	case sluice.KindBool:
		return avroColumn{"boolean", encBool}, nil
	case sluice.KindInt:
		if t.Bits > 0 && t.Bits <= 32 {
			if deb && t.Bits <= 16 {
				return avroColumn{map[string]any{"type": "int", "connect.type": "int" + strconv.Itoa(max(t.Bits, 8)&^7)}, encIntAsInt}, nil
			}
			return avroColumn{"int", encIntAsInt}, nil
		}
		return avroColumn{"long", encIntAsLong}, nil
	case sluice.KindUint:
		switch {
		case t.Bits > 0 && t.Bits <= 16:
			return avroColumn{"int", encUintAsInt}, nil
		case t.Bits > 0 && t.Bits <= 32:
			return avroColumn{"long", encUintAsLong}, nil
		}
		// Avro has no unsigned long: BIGINT UNSIGNED is decimal(20,0), so
		// 18446744073709551615 survives.
		m := map[string]any{"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 0}
		return avroColumn{connect(m, "org.apache.kafka.connect.data.Decimal", map[string]string{"scale": "0", "connect.decimal.precision": "20"}), encUintAsDecimal}, nil
	case sluice.KindFloat32:
		return avroColumn{"float", encFloat32}, nil
	case sluice.KindFloat64:
		return avroColumn{"double", encFloat64}, nil
	case sluice.KindDecimal:
		if t.Precision <= 0 {
			// Unconstrained numeric: no fixed scale, so the exact text.
			return avroColumn{map[string]any{"type": "string", "sluice.type": "decimal"}, encDecimalString}, nil
		}
		m := map[string]any{"type": "bytes", "logicalType": "decimal", "precision": t.Precision, "scale": t.Scale}
		scale := t.Scale
		return avroColumn{connect(m, "org.apache.kafka.connect.data.Decimal", map[string]string{"scale": strconv.Itoa(t.Scale), "connect.decimal.precision": strconv.Itoa(t.Precision)}),
			func(b []byte, v any) ([]byte, error) { return encDecimal(b, v, scale) }}, nil
	case sluice.KindString:
		return avroColumn{"string", encString}, nil
	case sluice.KindBytes:
		return avroColumn{"bytes", encBytes}, nil
	case sluice.KindUUID:
		m := map[string]any{"type": "string", "logicalType": "uuid"}
		return avroColumn{connect(m, "io.debezium.data.Uuid", nil), encString}, nil
	case sluice.KindDate:
		m := map[string]any{"type": "int", "logicalType": "date"}
		return avroColumn{connect(m, "io.debezium.time.Date", nil), encDate}, nil
	case sluice.KindTime:
		if deb {
			return avroColumn{map[string]any{"type": "long", "connect.name": "io.debezium.time.MicroTime"}, encTime}, nil
		}
		return avroColumn{map[string]any{"type": "long", "logicalType": "time-micros"}, encTime}, nil
	case sluice.KindDateTime:
		if deb {
			if t.Scale <= 3 {
				return avroColumn{map[string]any{"type": "long", "connect.name": "io.debezium.time.Timestamp"}, encDateTimeMillis}, nil
			}
			return avroColumn{map[string]any{"type": "long", "connect.name": "io.debezium.time.MicroTimestamp"}, encTimestampMicros}, nil
		}
		return avroColumn{map[string]any{"type": "long", "logicalType": "local-timestamp-micros"}, encTimestampMicros}, nil
	case sluice.KindTimestamp:
		if deb {
			scale := t.Scale
			return avroColumn{map[string]any{"type": "string", "connect.name": "io.debezium.time.ZonedTimestamp"},
				func(b []byte, v any) ([]byte, error) { return encZonedTimestamp(b, v, scale) }}, nil
		}
		return avroColumn{map[string]any{"type": "long", "logicalType": "timestamp-micros"}, encTimestampMicros}, nil
	case sluice.KindYear:
		if deb {
			return avroColumn{map[string]any{"type": "int", "connect.name": "io.debezium.time.Year"}, encIntAsInt}, nil
		}
		return avroColumn{"int", encIntAsInt}, nil
	case sluice.KindEnum:
		m := map[string]any{"type": "string", "sluice.type": "enum"}
		if deb {
			m = connect(map[string]any{"type": "string"}, "io.debezium.data.Enum", map[string]string{"allowed": strings.Join(t.Members, ",")})
		}
		return avroColumn{m, encString}, nil
	case sluice.KindSet:
		m := map[string]any{"type": "string", "sluice.type": "set"}
		if deb {
			m = connect(map[string]any{"type": "string"}, "io.debezium.data.EnumSet", map[string]string{"allowed": strings.Join(t.Members, ",")})
		}
		return avroColumn{m, encString}, nil
	case sluice.KindBit:
		if deb {
			if t.Length == 1 {
				return avroColumn{"boolean", encBitBool}, nil
			}
			n := (max(t.Length, 1) + 7) / 8
			return avroColumn{map[string]any{"type": "bytes", "connect.name": "io.debezium.data.Bits", "connect.parameters": map[string]string{"length": strconv.Itoa(t.Length)}},
				func(b []byte, v any) ([]byte, error) { return encBitBytesLE(b, v, n) }}, nil
		}
		// The bits in a long: BIT(64) values with the top bit set read as
		// negative longs with the same 64 bits.
		return avroColumn{map[string]any{"type": "long", "sluice.type": "bit", "sluice.bits": t.Length}, encBitLong}, nil
	case sluice.KindJSON:
		m := map[string]any{"type": "string", "sluice.type": "json"}
		if deb {
			m = connect(map[string]any{"type": "string"}, "io.debezium.data.Json", nil)
		}
		return avroColumn{m, encJSONString}, nil
	case sluice.KindGeometry:
		if deb {
			const name = "io.debezium.data.geometry.Geometry"
			var typ any = name
			if !named[name] {
				named[name] = true
				typ = map[string]any{"type": "record", "name": "Geometry", "namespace": "io.debezium.data.geometry", "connect.name": name,
					"fields": []any{
						map[string]any{"name": "wkb", "type": "bytes"},
						map[string]any{"name": "srid", "type": []any{"null", "int"}, "default": nil},
					}}
			}
			srid := t.SRID
			return avroColumn{typ, func(b []byte, v any) ([]byte, error) { return encGeometryRecord(b, v, srid) }}, nil
		}
		return avroColumn{map[string]any{"type": "bytes", "sluice.type": "geometry", "sluice.srid": t.SRID}, encGeometry}, nil
	}
	return avroColumn{}, fmt.Errorf("kind %s has no Avro mapping", t.Kind)
}

func encBool(b []byte, v any) ([]byte, error) {
	x, ok := v.(bool)
	if !ok {
		return b, badValue(v, "bool")
	}
	return appendAvroBool(b, x), nil
}

func encIntAsInt(b []byte, v any) ([]byte, error) {
	x, ok := v.(int64)
	if !ok || x < math.MinInt32 || x > math.MaxInt32 {
		return b, badValue(v, "int (32-bit range)")
	}
	return appendLong(b, x), nil
}

func encIntAsLong(b []byte, v any) ([]byte, error) {
	x, ok := v.(int64)
	if !ok {
		return b, badValue(v, "int")
	}
	return appendLong(b, x), nil
}

func encUintAsInt(b []byte, v any) ([]byte, error) {
	x, ok := v.(uint64)
	if !ok || x > math.MaxInt32 {
		return b, badValue(v, "uint (16-bit)")
	}
	return appendLong(b, int64(x)), nil
}

func encUintAsLong(b []byte, v any) ([]byte, error) {
	x, ok := v.(uint64)
	if !ok || x > math.MaxInt64 {
		return b, badValue(v, "uint (32-bit)")
	}
	return appendLong(b, int64(x)), nil
}

// appendTwosComplement appends the minimal big-endian two's-complement bytes
// of x (the Avro decimal encoding of an unscaled value).
func appendTwosComplementInt64(b []byte, x int64) []byte {
	var tmp [8]byte
	binary.BigEndian.PutUint64(tmp[:], uint64(x))
	i := 0
	for i < 7 {
		if tmp[i] == 0 && tmp[i+1]&0x80 == 0 || tmp[i] == 0xff && tmp[i+1]&0x80 != 0 {
			i++
			continue
		}
		break
	}
	b = appendLong(b, int64(8-i))
	return append(b, tmp[i:]...)
}

func encUintAsDecimal(b []byte, v any) ([]byte, error) {
	x, ok := v.(uint64)
	if !ok {
		return b, badValue(v, "uint")
	}
	if x <= math.MaxInt64 {
		return appendTwosComplementInt64(b, int64(x)), nil
	}
	var tmp [9]byte
	binary.BigEndian.PutUint64(tmp[1:], x)
	return appendAvroBytes(b, tmp[:]), nil
}

// encDecimal writes the exact decimal text as an Avro decimal of the given
// scale: the unscaled integer in two's complement. No float is involved.
func encDecimal(b []byte, v any, scale int) ([]byte, error) {
	d, ok := v.(sluice.Decimal)
	if !ok {
		return b, badValue(v, "decimal")
	}
	s := string(d)
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
	}
	if len(frac) > scale {
		return b, fmt.Errorf("decimal %q has more than %d fractional digits", string(d), scale)
	}
	if intPart == "" && frac == "" {
		return b, fmt.Errorf("decimal %q is not a number", string(d))
	}
	nd := len(intPart) + scale
	if nd <= 18 {
		var u int64
		for i := 0; i < len(intPart); i++ {
			c := intPart[i]
			if c < '0' || c > '9' {
				return b, fmt.Errorf("decimal %q is not a number", string(d))
			}
			u = u*10 + int64(c-'0')
		}
		for i := 0; i < scale; i++ {
			var c byte = '0'
			if i < len(frac) {
				c = frac[i]
			}
			if c < '0' || c > '9' {
				return b, fmt.Errorf("decimal %q is not a number", string(d))
			}
			u = u*10 + int64(c-'0')
		}
		if neg {
			u = -u
		}
		return appendTwosComplementInt64(b, u), nil
	}
	digits := intPart + frac + strings.Repeat("0", scale-len(frac))
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return b, fmt.Errorf("decimal %q is not a number", string(d))
	}
	if neg {
		n.Neg(n)
	}
	return appendAvroBytes(b, bigTwosComplement(n)), nil
}

// bigTwosComplement returns the minimal big-endian two's complement of n.
func bigTwosComplement(n *big.Int) []byte {
	if n.Sign() >= 0 {
		p := n.Bytes()
		if len(p) == 0 || p[0]&0x80 != 0 {
			p = append([]byte{0}, p...)
		}
		return p
	}
	// -n = ^(n-1) over enough bytes.
	m := new(big.Int).Add(n, big.NewInt(1)) // n+1 ≤ 0
	p := m.Neg(m).Bytes()                   // |n+1|
	out := make([]byte, len(p)+1)
	copy(out[1:], p)
	for i := range out {
		out[i] = ^out[i]
	}
	// Trim redundant leading 0xff bytes.
	i := 0
	for i < len(out)-1 && out[i] == 0xff && out[i+1]&0x80 != 0 {
		i++
	}
	return out[i:]
}

func encDecimalString(b []byte, v any) ([]byte, error) {
	d, ok := v.(sluice.Decimal)
	if !ok {
		return b, badValue(v, "decimal")
	}
	return appendAvroString(b, string(d)), nil
}

func encFloat32(b []byte, v any) ([]byte, error) {
	x, ok := v.(float32)
	if !ok {
		return b, badValue(v, "float32")
	}
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(x)), nil
}

func encFloat64(b []byte, v any) ([]byte, error) {
	x, ok := v.(float64)
	if !ok {
		return b, badValue(v, "float64")
	}
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(x)), nil
}

func encString(b []byte, v any) ([]byte, error) {
	x, ok := v.(string)
	if !ok {
		return b, badValue(v, "string")
	}
	return appendAvroString(b, x), nil
}

func encBytes(b []byte, v any) ([]byte, error) {
	x, ok := v.([]byte)
	if !ok {
		return b, badValue(v, "bytes")
	}
	return appendAvroBytes(b, x), nil
}

func encJSONString(b []byte, v any) ([]byte, error) {
	x, ok := v.(sluice.JSON)
	if !ok {
		return b, badValue(v, "json")
	}
	return appendAvroBytes(b, x), nil
}

func encGeometry(b []byte, v any) ([]byte, error) {
	x, ok := v.(sluice.Geometry)
	if !ok {
		return b, badValue(v, "geometry")
	}
	return appendAvroBytes(b, x), nil
}

func encGeometryRecord(b []byte, v any, srid int) ([]byte, error) {
	x, ok := v.(sluice.Geometry)
	if !ok {
		return b, badValue(v, "geometry")
	}
	b = appendAvroBytes(b, x)
	if srid == 0 {
		return appendLong(b, 0), nil
	}
	return appendLong(appendLong(b, 1), int64(srid)), nil
}

// ZeroDateDays is the Avro date (days since 1970-01-01) written for MySQL's
// zero date 0000-00-00 when the source is configured to keep zero dates.
const ZeroDateDays = math.MinInt32

func encDate(b []byte, v any) ([]byte, error) {
	x, ok := v.(sluice.Date)
	if !ok {
		return b, badValue(v, "date")
	}
	if x.IsZero() {
		return appendLong(b, ZeroDateDays), nil
	}
	return appendLong(b, x.DaysSinceEpoch()), nil
}

func encTime(b []byte, v any) ([]byte, error) {
	x, ok := v.(time.Duration)
	if !ok {
		return b, badValue(v, "time")
	}
	return appendLong(b, int64(x/time.Microsecond)), nil
}

func encTimestampMicros(b []byte, v any) ([]byte, error) {
	x, ok := v.(time.Time)
	if !ok {
		return b, badValue(v, "timestamp")
	}
	return appendLong(b, x.UnixMicro()), nil
}

func encDateTimeMillis(b []byte, v any) ([]byte, error) {
	x, ok := v.(time.Time)
	if !ok {
		return b, badValue(v, "datetime")
	}
	return appendLong(b, x.UnixMilli()), nil
}

func encZonedTimestamp(b []byte, v any, scale int) ([]byte, error) {
	x, ok := v.(time.Time)
	if !ok {
		return b, badValue(v, "timestamp")
	}
	var tmp [40]byte
	s := appendRFC3339(tmp[:0], x.UTC(), scale, true)
	return appendAvroBytes(b, s), nil
}

func encBitLong(b []byte, v any) ([]byte, error) {
	x, ok := v.(uint64)
	if !ok {
		return b, badValue(v, "bit")
	}
	return appendLong(b, int64(x)), nil
}

func encBitBool(b []byte, v any) ([]byte, error) {
	x, ok := v.(uint64)
	if !ok {
		return b, badValue(v, "bit")
	}
	return appendAvroBool(b, x != 0), nil
}

// encBitBytesLE writes n bytes, least significant first (Debezium's Bits).
func encBitBytesLE(b []byte, v any, n int) ([]byte, error) {
	x, ok := v.(uint64)
	if !ok {
		return b, badValue(v, "bit")
	}
	b = appendLong(b, int64(n))
	for i := 0; i < n; i++ {
		b = append(b, byte(x>>(8*i)))
	}
	return b, nil
}

// appendRFC3339 writes t as 2006-01-02T15:04:05[.ffffff] with exactly scale
// fractional digits, and a trailing Z when zone is set.
func appendRFC3339(b []byte, t time.Time, scale int, zone bool) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, int(mo), 2)
	b = append(b, '-')
	b = appendPad(b, d, 2)
	b = append(b, 'T')
	b = appendPad(b, h, 2)
	b = append(b, ':')
	b = appendPad(b, mi, 2)
	b = append(b, ':')
	b = appendPad(b, s, 2)
	b = appendFrac(b, t.Nanosecond()/1000, scale)
	if zone {
		b = append(b, 'Z')
	}
	return b
}

func appendFrac(b []byte, micros, scale int) []byte {
	if scale <= 0 {
		return b
	}
	scale = min(scale, 6)
	var tmp [6]byte
	for i := 5; i >= 0; i-- {
		tmp[i] = byte('0' + micros%10)
		micros /= 10
	}
	b = append(b, '.')
	return append(b, tmp[:scale]...)
}

func appendPad(b []byte, v, width int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
