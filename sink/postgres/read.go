package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/sluicecdc/sluice"
)

// ReadTable returns the target rows of t converted back to neutral values
// (the Go representation of each column's Kind), ordered by key. It reads
// the whole table and is meant for verification and tests, not for the data
// path. A zero date written by a source reads back as NULL.
func (s *Sink) ReadTable(ctx context.Context, t *sluice.Table) ([]sluice.Row, error) {
	id := s.targetID(t.ID)
	exprs := make([]string, len(t.Columns))
	conv := make([]func(any) (any, error), len(t.Columns))
	for i, c := range t.Columns {
		exprs[i], conv[i] = readerFor(quoteIdent(c.Name), c.Type)
	}
	q := "SELECT " + strings.Join(exprs, ", ") + " FROM " + id.Sanitize()
	if t.HasKey() {
		q += " ORDER BY " + quoteList(t.KeyNames())
	}
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("postgres sink: reading %s: %w", id.Sanitize(), s.redact(err))
	}
	defer rows.Close()
	var out []sluice.Row
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, fmt.Errorf("postgres sink: reading %s: %w", id.Sanitize(), err)
		}
		r := make(sluice.Row, len(vals))
		for i, v := range vals {
			if v == nil {
				continue
			}
			if r[i], err = conv[i](v); err != nil {
				return nil, fmt.Errorf("postgres sink: reading %s column %q: %w", id.Sanitize(), t.Columns[i].Name, err)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres sink: reading %s: %w", id.Sanitize(), s.redact(err))
	}
	return out, nil
}

// readerFor returns the select expression for a column and the conversion
// of the value pgx returns for it into the kind's Go representation.
func readerFor(col string, t sluice.Type) (string, func(any) (any, error)) {
	asText := col + "::text"
	switch t.Kind {
	case sluice.KindBool:
		return col, func(v any) (any, error) { return v.(bool), nil }
	case sluice.KindInt, sluice.KindYear:
		return col + "::int8", func(v any) (any, error) { return v.(int64), nil }
	case sluice.KindUint:
		return asText, func(v any) (any, error) { return strconv.ParseUint(v.(string), 10, 64) }
	case sluice.KindFloat32:
		return col + "::float4", func(v any) (any, error) { return v.(float32), nil }
	case sluice.KindFloat64:
		return col + "::float8", func(v any) (any, error) { return v.(float64), nil }
	case sluice.KindDecimal:
		return asText, func(v any) (any, error) { return sluice.Decimal(v.(string)), nil }
	case sluice.KindString, sluice.KindEnum, sluice.KindSet, sluice.KindUUID:
		return asText, func(v any) (any, error) { return v.(string), nil }
	case sluice.KindBytes:
		return col, func(v any) (any, error) { return v.([]byte), nil }
	case sluice.KindGeometry:
		return col, func(v any) (any, error) { return sluice.Geometry(v.([]byte)), nil }
	case sluice.KindDate:
		return col, func(v any) (any, error) { return sluice.DateOf(v.(time.Time)), nil }
	case sluice.KindTime:
		return col, func(v any) (any, error) {
			iv := v.(pgtype.Interval)
			return time.Duration(iv.Microseconds)*time.Microsecond + time.Duration(iv.Days)*24*time.Hour, nil
		}
	case sluice.KindDateTime, sluice.KindTimestamp:
		return col, func(v any) (any, error) { return v.(time.Time).UTC(), nil }
	case sluice.KindBit:
		return asText, func(v any) (any, error) {
			s := v.(string)
			switch s {
			case "true":
				return uint64(1), nil
			case "false":
				return uint64(0), nil
			}
			return strconv.ParseUint(s, 2, 64)
		}
	case sluice.KindJSON:
		return asText, func(v any) (any, error) {
			var b bytes.Buffer
			if err := json.Compact(&b, []byte(v.(string))); err != nil {
				return nil, err
			}
			return sluice.JSON(b.Bytes()), nil
		}
	}
	return asText, func(v any) (any, error) { return v, nil }
}
