package kafka

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sluicecdc/sluice"
)

// JSON value representation (the same in both envelopes):
//
//	bool                 true/false
//	int, uint, year      JSON number (exact digits, uint64 max included)
//	float32, float64     JSON number (shortest round-trip form); NaN and ±Inf as the strings "NaN", "Infinity", "-Infinity"
//	decimal              string with the exact text, e.g. "-12.50"
//	string, enum, set    string
//	uuid                 string
//	bytes, geometry      string, standard base64 (geometry: WKB)
//	bit                  JSON number (the bits as an unsigned integer)
//	date                 "YYYY-MM-DD" ("0000-00-00" for a kept zero date)
//	time                 "[-]HH:MM:SS[.ffffff]" (hours may exceed 24)
//	datetime             "YYYY-MM-DDTHH:MM:SS[.ffffff]" without zone
//	timestamp            "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (UTC, RFC 3339)
//	json                 the document itself (EnvelopeSluice) or a string holding it (EnvelopeDebezium, like io.debezium.data.Json)
//
// Fractional seconds have exactly the column's scale digits.

func jsonMapping(t sluice.Type, deb bool) appendFn {
	switch t.Kind {
	case sluice.KindBool:
		return jBool
	case sluice.KindInt, sluice.KindYear:
		return jInt
	case sluice.KindUint, sluice.KindBit:
		return jUint
	case sluice.KindFloat32:
		return jFloat32
	case sluice.KindFloat64:
		return jFloat64
	case sluice.KindDecimal:
		return jDecimal
	case sluice.KindString, sluice.KindEnum, sluice.KindSet, sluice.KindUUID:
		return jString
	case sluice.KindBytes:
		return jBytes
	case sluice.KindGeometry:
		return jGeometry
	case sluice.KindDate:
		return jDate
	case sluice.KindTime:
		scale := t.Scale
		return func(b []byte, v any) ([]byte, error) { return jTime(b, v, scale) }
	case sluice.KindDateTime:
		scale := t.Scale
		return func(b []byte, v any) ([]byte, error) { return jDateTime(b, v, scale, false) }
	case sluice.KindTimestamp:
		scale := t.Scale
		return func(b []byte, v any) ([]byte, error) { return jDateTime(b, v, scale, true) }
	case sluice.KindJSON:
		if deb {
			return jJSONString
		}
		return jJSONRaw
	}
	return nil
}

func jBool(b []byte, v any) ([]byte, error) {
	x, ok := v.(bool)
	if !ok {
		return b, badValue(v, "bool")
	}
	return strconv.AppendBool(b, x), nil
}

func jInt(b []byte, v any) ([]byte, error) {
	x, ok := v.(int64)
	if !ok {
		return b, badValue(v, "int")
	}
	return strconv.AppendInt(b, x, 10), nil
}

func jUint(b []byte, v any) ([]byte, error) {
	x, ok := v.(uint64)
	if !ok {
		return b, badValue(v, "uint")
	}
	return strconv.AppendUint(b, x, 10), nil
}

func jFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

func jFloat32(b []byte, v any) ([]byte, error) {
	x, ok := v.(float32)
	if !ok {
		return b, badValue(v, "float32")
	}
	return jFloat(b, float64(x), 32), nil
}

func jFloat64(b []byte, v any) ([]byte, error) {
	x, ok := v.(float64)
	if !ok {
		return b, badValue(v, "float64")
	}
	return jFloat(b, x, 64), nil
}

func jDecimal(b []byte, v any) ([]byte, error) {
	x, ok := v.(sluice.Decimal)
	if !ok {
		return b, badValue(v, "decimal")
	}
	return appendJSONString(b, string(x)), nil
}

func jString(b []byte, v any) ([]byte, error) {
	x, ok := v.(string)
	if !ok {
		return b, badValue(v, "string")
	}
	return appendJSONString(b, x), nil
}

func appendBase64(b, p []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

func jBytes(b []byte, v any) ([]byte, error) {
	x, ok := v.([]byte)
	if !ok {
		return b, badValue(v, "bytes")
	}
	return appendBase64(b, x), nil
}

func jGeometry(b []byte, v any) ([]byte, error) {
	x, ok := v.(sluice.Geometry)
	if !ok {
		return b, badValue(v, "geometry")
	}
	return appendBase64(b, x), nil
}

func jDate(b []byte, v any) ([]byte, error) {
	x, ok := v.(sluice.Date)
	if !ok {
		return b, badValue(v, "date")
	}
	b = append(b, '"')
	b = appendPad(b, x.Year, 4)
	b = append(b, '-')
	b = appendPad(b, int(x.Month), 2)
	b = append(b, '-')
	b = appendPad(b, x.Day, 2)
	return append(b, '"'), nil
}

func jTime(b []byte, v any, scale int) ([]byte, error) {
	x, ok := v.(time.Duration)
	if !ok {
		return b, badValue(v, "time")
	}
	b = append(b, '"')
	if x < 0 {
		b = append(b, '-')
		x = -x
	}
	us := int64(x / time.Microsecond)
	b = appendPad(b, int(us/3600e6), 2)
	b = append(b, ':')
	b = appendPad(b, int(us/60e6%60), 2)
	b = append(b, ':')
	b = appendPad(b, int(us/1e6%60), 2)
	b = appendFrac(b, int(us%1e6), scale)
	return append(b, '"'), nil
}

func jDateTime(b []byte, v any, scale int, zone bool) ([]byte, error) {
	x, ok := v.(time.Time)
	if !ok {
		return b, badValue(v, "datetime")
	}
	b = append(b, '"')
	b = appendRFC3339(b, x.UTC(), scale, zone)
	return append(b, '"'), nil
}

func jJSONRaw(b []byte, v any) ([]byte, error) {
	x, ok := v.(sluice.JSON)
	if !ok {
		return b, badValue(v, "json")
	}
	if len(x) == 0 {
		return append(b, "null"...), nil
	}
	return append(b, x...), nil
}

func jJSONString(b []byte, v any) ([]byte, error) {
	x, ok := v.(sluice.JSON)
	if !ok {
		return b, badValue(v, "json")
	}
	return appendJSONString(b, string(x)), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string (RFC 8259), replacing invalid
// UTF-8 with U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
