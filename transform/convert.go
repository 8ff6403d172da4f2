package transform

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicecdc/sluice"
)

// convFn converts one non-NULL, non-Unchanged value; the error says why the
// value does not fit (the caller adds table and column).
type convFn func(v any) (any, error)

// ErrConvert is wrapped by the error Map returns when a value cannot be
// converted by a type override.
var ErrConvert = errors.New("value cannot be converted")

// ErrNoConversion is wrapped by Bind's error when an override asks for a
// conversion the matrix does not allow (text → integer).
var ErrNoConversion = errors.New("conversion not supported")

var (
	kn = struct{ Bool, Int, Uint, F32, F64, Dec, Str, Bytes, Date, Time, DT, TS, Year, Enum, Set, Bit, JSON, Geo, UUID sluice.Kind }{
		sluice.KindBool, sluice.KindInt, sluice.KindUint, sluice.KindFloat32, sluice.KindFloat64, sluice.KindDecimal,
		sluice.KindString, sluice.KindBytes, sluice.KindDate, sluice.KindTime, sluice.KindDateTime, sluice.KindTimestamp,
		sluice.KindYear, sluice.KindEnum, sluice.KindSet, sluice.KindBit, sluice.KindJSON, sluice.KindGeometry, sluice.KindUUID,
	}
)

// convertible lists, per target kind, the source kinds a type override may
// convert from (besides the kind itself, always allowed). See the matrix in
// the package documentation.
var convertible = map[sluice.Kind][]sluice.Kind{
	sluice.KindBool:      {kn.Int, kn.Uint, kn.Bit},
	sluice.KindInt:       {kn.Bool, kn.Uint, kn.Bit, kn.Year, kn.Dec, kn.F32, kn.F64},
	sluice.KindUint:      {kn.Bool, kn.Int, kn.Bit, kn.Year, kn.Dec, kn.F32, kn.F64},
	sluice.KindFloat32:   {kn.Int, kn.Uint, kn.F64, kn.Dec},
	sluice.KindFloat64:   {kn.Int, kn.Uint, kn.F32, kn.Dec},
	sluice.KindDecimal:   {kn.Bool, kn.Int, kn.Uint, kn.Year, kn.F32, kn.F64},
	sluice.KindString:    {kn.Bool, kn.Int, kn.Uint, kn.F32, kn.F64, kn.Dec, kn.Bytes, kn.Date, kn.Time, kn.DT, kn.TS, kn.Year, kn.Enum, kn.Set, kn.Bit, kn.JSON, kn.UUID},
	sluice.KindBytes:     {kn.Str, kn.JSON, kn.Geo, kn.UUID},
	sluice.KindDate:      {kn.DT, kn.TS},
	sluice.KindDateTime:  {kn.Date, kn.TS},
	sluice.KindTimestamp: {kn.Date, kn.DT},
	sluice.KindYear:      {kn.Int, kn.Uint},
	sluice.KindEnum:      {kn.Str},
	sluice.KindSet:       {kn.Str},
	sluice.KindBit:       {kn.Bool, kn.Int, kn.Uint},
	sluice.KindJSON:      {kn.Str},
	sluice.KindGeometry:  {kn.Bytes},
	sluice.KindUUID:      {kn.Str, kn.Bytes},
}

// CanConvert reports whether a type override may turn values of kind from
// into kind to. Some allowed conversions check each value at run time (a
// range, a length, a membership) and fail with ErrConvert, never silently.
func CanConvert(from, to sluice.Kind) bool {
	return from == to || slices.Contains(convertible[to], from)
}

func convErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConvert}, a...)...)
}

// converter returns the conversion from → to, or nil when the types are
// equal.
func converter(from, to sluice.Type) (convFn, error) {
	if from.Equal(to) {
		return nil, nil
	}
	if !CanConvert(from.Kind, to.Kind) {
		return nil, fmt.Errorf("%w: %s to %s", ErrNoConversion, from, to)
	}
	switch to.Kind {
	case sluice.KindBool:
		return func(v any) (any, error) {
			u, neg, ok := asInteger(v)
			switch {
			case !ok || neg || u > 1:
				return nil, convErr("only 0 and 1 become a bool")
			}
			return u == 1, nil
		}, nil
	case sluice.KindInt, sluice.KindYear:
		bits := to.Bits
		if to.Kind == sluice.KindYear {
			bits = 64
		}
		return func(v any) (any, error) {
			u, neg, ok := asInteger(v)
			if !ok {
				return nil, convErr("not an integer")
			}
			if (!neg && u > math.MaxInt64) || (neg && u > 1<<63) {
				return nil, convErr("out of the int64 range")
			}
			i := int64(u)
			if neg {
				i = -i
			}
			if !intFits(i, bits) {
				return nil, convErr("out of range for %d bits", bits)
			}
			if to.Kind == sluice.KindYear && i != 0 && (i < 1901 || i > 2155) {
				return nil, convErr("not a YEAR (0 or 1901..2155)")
			}
			return i, nil
		}, nil
	case sluice.KindUint, sluice.KindBit:
		bits := to.Bits
		if to.Kind == sluice.KindBit {
			bits = to.Length
		}
		return func(v any) (any, error) {
			u, neg, ok := asInteger(v)
			if !ok {
				return nil, convErr("not an integer")
			}
			if neg && u != 0 {
				return nil, convErr("negative")
			}
			if bits > 0 && bits < 64 && u >= 1<<bits {
				return nil, convErr("out of range for %d bits", bits)
			}
			return u, nil
		}, nil
	case sluice.KindFloat64, sluice.KindFloat32:
		f32 := to.Kind == sluice.KindFloat32
		return func(v any) (any, error) {
			var f float64
			switch x := v.(type) {
			case sluice.Decimal: // rounds to the nearest float: the override asks for it
				var err error
				if f, err = strconv.ParseFloat(string(x), 64); err != nil {
					return nil, convErr("not a number")
				}
				if f32 {
					f32v, _ := strconv.ParseFloat(string(x), 32)
					return float32(f32v), nil
				}
				return f, nil
			case float32:
				f = float64(x)
			case float64:
				f = x
				if f32 && float64(float32(x)) != x && !math.IsNaN(x) {
					return nil, convErr("not exactly representable as float32")
				}
			default:
				u, neg, ok := asInteger(v)
				if !ok {
					return nil, convErr("not a number")
				}
				limit := uint64(1) << 53
				if f32 {
					limit = 1 << 24
				}
				if u > limit {
					return nil, convErr("integer too large to be exact as a float")
				}
				f = float64(u)
				if neg {
					f = -f
				}
			}
			if f32 {
				return float32(f), nil
			}
			return f, nil
		}, nil
	case sluice.KindDecimal:
		return func(v any) (any, error) {
			var s string
			switch x := v.(type) {
			case sluice.Decimal:
				s = string(x)
			case float32:
				s = strconv.FormatFloat(float64(x), 'f', -1, 32)
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, convErr("not a finite number")
				}
				s = strconv.FormatFloat(x, 'f', -1, 64)
			case bool:
				s = "0"
				if x {
					s = "1"
				}
			default:
				u, neg, ok := asInteger(v)
				if !ok {
					return nil, convErr("not a number")
				}
				s = strconv.FormatUint(u, 10)
				if neg && u != 0 {
					s = "-" + s
				}
			}
			d, ok := rescale(s, to.Precision, to.Scale)
			if !ok {
				return nil, convErr("does not fit decimal(%d,%d) exactly", to.Precision, to.Scale)
			}
			return d, nil
		}, nil
	case sluice.KindString, sluice.KindEnum, sluice.KindSet:
		return func(v any) (any, error) {
			s, ok := formatValue(v)
			if !ok {
				return nil, convErr("has no text form (bytes that are not UTF-8)")
			}
			if to.Length > 0 && utf8.RuneCountInString(s) > to.Length {
				return nil, convErr("longer than %d characters", to.Length)
			}
			switch to.Kind {
			case sluice.KindEnum:
				if !slices.Contains(to.Members, s) {
					return nil, convErr("not a member of %s", to)
				}
			case sluice.KindSet:
				if s != "" {
					for _, m := range strings.Split(s, ",") {
						if !slices.Contains(to.Members, m) {
							return nil, convErr("%q is not a member of %s", m, to)
						}
					}
				}
			}
			return s, nil
		}, nil
	case sluice.KindBytes:
		return func(v any) (any, error) {
			var b []byte
			switch x := v.(type) {
			case string: // string or UUID
				if from.Kind == sluice.KindUUID {
					raw, err := hex.DecodeString(strings.ReplaceAll(x, "-", ""))
					if err != nil || len(raw) != 16 {
						return nil, convErr("not a UUID")
					}
					b = raw
				} else {
					b = []byte(x)
				}
			case []byte:
				b = x
			case sluice.JSON:
				b = []byte(x)
			case sluice.Geometry:
				b = []byte(x)
			default:
				return nil, convErr("not bytes")
			}
			if to.Length > 0 && len(b) > to.Length {
				return nil, convErr("%d bytes do not fit bytes(%d)", len(b), to.Length)
			}
			return b, nil
		}, nil
	case sluice.KindDate:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case sluice.Date:
				return x, nil
			case time.Time:
				d := sluice.DateOf(x)
				if !x.Equal(d.Time()) {
					return nil, convErr("has a time of day; a date would lose it")
				}
				return d, nil
			}
			return nil, convErr("not a date")
		}, nil
	case sluice.KindDateTime, sluice.KindTimestamp:
		return func(v any) (any, error) {
			var t time.Time
			switch x := v.(type) {
			case sluice.Date:
				if x.IsZero() {
					return nil, convErr("the zero date has no %s", to.Kind)
				}
				t = x.Time()
			case time.Time:
				t = x.UTC()
			default:
				return nil, convErr("not a date or time")
			}
			if t.Nanosecond()%pow10(9-to.Scale) != 0 {
				return nil, convErr("has more than %d fractional digits", to.Scale)
			}
			return t, nil
		}, nil
	case sluice.KindTime:
		return func(v any) (any, error) {
			d, ok := v.(time.Duration)
			if !ok {
				return nil, convErr("not a time")
			}
			if int(d%time.Second)%pow10(9-to.Scale) != 0 {
				return nil, convErr("has more than %d fractional digits", to.Scale)
			}
			return d, nil
		}, nil
	case sluice.KindJSON:
		return func(v any) (any, error) {
			var src []byte
			switch x := v.(type) {
			case string:
				src = []byte(x)
			case sluice.JSON:
				return x, nil
			default:
				return nil, convErr("not text")
			}
			var b bytes.Buffer
			if err := json.Compact(&b, src); err != nil {
				return nil, convErr("not a JSON document")
			}
			return sluice.JSON(b.Bytes()), nil
		}, nil
	case sluice.KindGeometry:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case []byte:
				return sluice.Geometry(x), nil
			case sluice.Geometry:
				return x, nil
			}
			return nil, convErr("not WKB bytes")
		}, nil
	case sluice.KindUUID:
		return func(v any) (any, error) {
			switch x := v.(type) {
			case string:
				if u, ok := canonicalUUID(x); ok {
					return u, nil
				}
			case []byte:
				if len(x) == 16 {
					h := hex.EncodeToString(x)
					return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
				}
			}
			return nil, convErr("not a UUID")
		}, nil
	}
	return nil, fmt.Errorf("%w: %s to %s", ErrNoConversion, from, to)
}

// asInteger returns an integral value as magnitude and sign: ints, uints,
// bools, integral decimals and floats.
func asInteger(v any) (u uint64, neg, ok bool) {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return uint64(-(x + 1)) + 1, true, true
		}
		return uint64(x), false, true
	case uint64:
		return x, false, true
	case bool:
		if x {
			return 1, false, true
		}
		return 0, false, true
	case sluice.Decimal:
		s := string(x)
		if strings.HasPrefix(s, "-") {
			neg, s = true, s[1:]
		}
		if dot := strings.IndexByte(s, '.'); dot >= 0 {
			if strings.Trim(s[dot+1:], "0") != "" {
				return 0, false, false
			}
			s = s[:dot]
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, false, false
		}
		return n, neg && n != 0, true
	case float32:
		return asInteger(float64(x))
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.Abs(x) >= 1<<64 {
			return 0, false, false
		}
		if x < 0 {
			return uint64(-x), true, true
		}
		return uint64(x), false, true
	}
	return 0, false, false
}

func intFits(i int64, bits int) bool {
	if bits <= 0 || bits >= 64 {
		return true
	}
	lim := int64(1) << (bits - 1)
	return i >= -lim && i < lim
}

func pow10(n int) int {
	p := 1
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// rescale renders a plain decimal with exactly scale fraction digits,
// failing when digits would be lost or precision exceeded.
func rescale(s string, precision, scale int) (sluice.Decimal, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", false
	}
	out := r.FloatString(scale)
	back, _ := new(big.Rat).SetString(out)
	if back.Cmp(r) != 0 {
		return "", false
	}
	digits := strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(out), "0")
	if precision > 0 && len(digits) > precision {
		return "", false
	}
	if strings.Trim(out, "-0.") == "" {
		out = strings.TrimPrefix(out, "-")
	}
	return sluice.Decimal(out), true
}

// formatValue renders a value as text for a string target.
func formatValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case sluice.Decimal:
		return string(x), true
	case []byte:
		return string(x), utf8.Valid(x)
	case sluice.JSON:
		return string(x), true
	case sluice.Date:
		return x.String(), true
	case time.Duration:
		return formatDuration(x), true
	case time.Time:
		if x.Location() == time.UTC {
			return x.Format("2006-01-02 15:04:05.999999999"), true
		}
		return x.Format(time.RFC3339Nano), true
	}
	return "", false
}

// formatDuration renders a MySQL TIME: [-]HH:MM:SS[.fffffffff].
func formatDuration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	h := int64(d / time.Hour)
	m := int64(d/time.Minute) % 60
	s := int64(d/time.Second) % 60
	ns := int64(d % time.Second)
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if ns != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%09d", ns), "0")
	}
	if neg {
		out = "-" + out
	}
	return out
}

func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return "", false
	}
	if _, err := hex.DecodeString(s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]); err != nil {
		return "", false
	}
	return strings.ToLower(s), true
}

// describeValue renders a value for an error message, shortened.
func describeValue(v any) string {
	s, ok := formatValue(v)
	if !ok {
		s = fmt.Sprintf("%x", v)
	}
	if len(s) > 64 {
		s = s[:61] + "..."
	}
	return strconv.Quote(s)
}
