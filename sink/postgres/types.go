package postgres

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/sluicecdc/sluice"
)

// ErrUnsupportedType is wrapped by errors for a neutral type that has no
// faithful PostgreSQL mapping.
var ErrUnsupportedType = errors.New("no faithful PostgreSQL type")

// maxVarchar is PostgreSQL's largest varchar length; longer strings map to text.
const maxVarchar = 10485760

// TypeFor returns the PostgreSQL column type the sink creates for a neutral
// type (see the table in the package doc), or an error wrapping
// ErrUnsupportedType when no type keeps every value faithfully.
func TypeFor(t sluice.Type) (string, error) {
	switch t.Kind {
	case sluice.KindBool:
		return "boolean", nil
	case sluice.KindInt:
		switch t.Bits {
		case 8, 16:
			return "smallint", nil
		case 24, 32:
			return "integer", nil
		case 64, 0:
			return "bigint", nil
		}
	case sluice.KindUint:
		switch t.Bits {
		case 8:
			return "smallint", nil
		case 16, 24:
			return "integer", nil
		case 32:
			return "bigint", nil
		case 64, 0:
			return "numeric(20,0)", nil
		}
	case sluice.KindFloat32:
		return "real", nil
	case sluice.KindFloat64:
		return "double precision", nil
	case sluice.KindDecimal:
		if t.Precision == 0 && t.Scale == 0 {
			return "numeric", nil
		}
		if t.Precision >= 1 && t.Precision <= 1000 && t.Scale >= 0 && t.Scale <= t.Precision {
			return "numeric(" + strconv.Itoa(t.Precision) + "," + strconv.Itoa(t.Scale) + ")", nil
		}
	case sluice.KindString:
		if t.Length > 0 && t.Length <= maxVarchar {
			return "varchar(" + strconv.Itoa(t.Length) + ")", nil
		}
		return "text", nil
	case sluice.KindBytes, sluice.KindGeometry:
		return "bytea", nil
	case sluice.KindDate:
		return "date", nil
	case sluice.KindTime:
		return "interval", nil
	case sluice.KindDateTime:
		if t.Scale >= 0 && t.Scale <= 6 {
			return "timestamp(" + strconv.Itoa(t.Scale) + ")", nil
		}
	case sluice.KindTimestamp:
		if t.Scale >= 0 && t.Scale <= 6 {
			return "timestamptz(" + strconv.Itoa(t.Scale) + ")", nil
		}
	case sluice.KindYear:
		return "smallint", nil
	case sluice.KindEnum, sluice.KindSet:
		return "text", nil
	case sluice.KindBit:
		if t.Length == 1 {
			return "boolean", nil
		}
		if t.Length > 1 && t.Length <= 64 {
			return "bit varying(" + strconv.Itoa(t.Length) + ")", nil
		}
	case sluice.KindJSON:
		return "jsonb", nil
	case sluice.KindUUID:
		return "uuid", nil
	}
	return "", fmt.Errorf("%w for %s", ErrUnsupportedType, t)
}

// encoder turns one non-NULL neutral value into a value pgx encodes for the
// mapped column type. Built once per column of a table version.
type encoder func(v any) (any, error)

func wrongType(t sluice.Type, v any) error {
	return fmt.Errorf("value of Go type %T does not represent %s", v, t.Kind)
}

// encoderFor returns the encoder for a column of type t.
func encoderFor(t sluice.Type) (encoder, error) {
	if _, err := TypeFor(t); err != nil {
		return nil, err
	}
	switch t.Kind {
	case sluice.KindBool:
		return func(v any) (any, error) {
			if _, ok := v.(bool); !ok {
				return nil, wrongType(t, v)
			}
			return v, nil
		}, nil
	case sluice.KindInt, sluice.KindYear:
		return func(v any) (any, error) {
			if _, ok := v.(int64); !ok {
				return nil, wrongType(t, v)
			}
			return v, nil
		}, nil
	case sluice.KindUint:
		return func(v any) (any, error) {
			u, ok := v.(uint64)
			if !ok {
				return nil, wrongType(t, v)
			}
			if u <= math.MaxInt64 {
				return int64(u), nil
			}
			return pgtype.Numeric{Int: new(big.Int).SetUint64(u), Valid: true}, nil
		}, nil
	case sluice.KindFloat32:
		return func(v any) (any, error) {
			if _, ok := v.(float32); !ok {
				return nil, wrongType(t, v)
			}
			return v, nil
		}, nil
	case sluice.KindFloat64:
		return func(v any) (any, error) {
			if _, ok := v.(float64); !ok {
				return nil, wrongType(t, v)
			}
			return v, nil
		}, nil
	case sluice.KindDecimal:
		return func(v any) (any, error) {
			d, ok := v.(sluice.Decimal)
			if !ok {
				return nil, wrongType(t, v)
			}
			return decimalToNumeric(d)
		}, nil
	case sluice.KindString:
		return func(v any) (any, error) {
			s, ok := v.(string)
			if !ok {
				return nil, wrongType(t, v)
			}
			if strings.IndexByte(s, 0) >= 0 {
				return nil, errors.New("the string contains a NUL character, which PostgreSQL text cannot store (map the column to bytes, or strip NULs with a transform)")
			}
			return v, nil // v, not s: no new interface allocation
		}, nil
	case sluice.KindEnum, sluice.KindSet, sluice.KindUUID:
		return func(v any) (any, error) {
			if _, ok := v.(string); !ok {
				return nil, wrongType(t, v)
			}
			return v, nil
		}, nil
	case sluice.KindBytes:
		return func(v any) (any, error) {
			if _, ok := v.([]byte); !ok {
				return nil, wrongType(t, v)
			}
			return v, nil
		}, nil
	case sluice.KindGeometry:
		return func(v any) (any, error) {
			g, ok := v.(sluice.Geometry)
			if !ok {
				return nil, wrongType(t, v)
			}
			return []byte(g), nil
		}, nil
	case sluice.KindJSON:
		return func(v any) (any, error) {
			j, ok := v.(sluice.JSON)
			if !ok {
				return nil, wrongType(t, v)
			}
			return []byte(j), nil
		}, nil
	case sluice.KindDate:
		return func(v any) (any, error) {
			d, ok := v.(sluice.Date)
			if !ok {
				return nil, wrongType(t, v)
			}
			if d.Month == 0 || d.Day == 0 {
				return nil, nil // zero date (or zero in date): NULL, as documented
			}
			tm := d.Time()
			if tm.Day() != d.Day || tm.Month() != d.Month {
				return nil, fmt.Errorf("date %s does not exist in the calendar; PostgreSQL date cannot hold it", d)
			}
			return pgtype.Date{Time: tm, Valid: true}, nil
		}, nil
	case sluice.KindTime:
		return func(v any) (any, error) {
			d, ok := v.(time.Duration)
			if !ok {
				return nil, wrongType(t, v)
			}
			return pgtype.Interval{Microseconds: int64(d / time.Microsecond), Valid: true}, nil
		}, nil
	case sluice.KindDateTime, sluice.KindTimestamp:
		return func(v any) (any, error) {
			if _, ok := v.(time.Time); !ok {
				return nil, wrongType(t, v)
			}
			return v, nil
		}, nil
	case sluice.KindBit:
		n := t.Length
		if n == 1 {
			return func(v any) (any, error) {
				u, ok := v.(uint64)
				if !ok {
					return nil, wrongType(t, v)
				}
				return u != 0, nil
			}, nil
		}
		nb := (n + 7) / 8
		return func(v any) (any, error) {
			u, ok := v.(uint64)
			if !ok {
				return nil, wrongType(t, v)
			}
			if n < 64 && u>>uint(n) != 0 {
				return nil, fmt.Errorf("bit value %#x is wider than %d bits", u, n)
			}
			u <<= uint(nb*8 - n) // left-align in nb bytes
			b := make([]byte, nb)
			for i := nb - 1; i >= 0; i-- {
				b[i] = byte(u)
				u >>= 8
			}
			return pgtype.Bits{Bytes: b, Len: int32(n), Valid: true}, nil
		}, nil
	}
	return nil, fmt.Errorf("%w for %s", ErrUnsupportedType, t)
}

// decimalToNumeric parses sluice.Decimal text into a pgtype.Numeric.
func decimalToNumeric(d sluice.Decimal) (any, error) {
	s := string(d)
	var exp int32
	if i := strings.IndexByte(s, '.'); i >= 0 {
		exp = -int32(len(s) - i - 1)
		s = s[:i] + s[i+1:]
	}
	if exp == 0 && len(s) <= 18 {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("decimal %q is not plain decimal text", string(d))
	}
	return pgtype.Numeric{Int: n, Exp: exp, Valid: true}, nil
}
