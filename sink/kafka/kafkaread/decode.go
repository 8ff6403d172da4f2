package kafkaread

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/registry"
)

// Decoded is one record decoded back to neutral values, the way a consumer
// would: Avro with the schema fetched from the registry by the id in the
// record, JSON with encoding/json.
type Decoded struct {
	Op            string
	Key           map[string]any // the key record (Avro) or object (JSON)
	Before, After sluice.Row
	Source        map[string]any
	Unchanged     []string
	Tombstone     bool
	KeyID, ValID  int
}

// Decoder decodes the records the sink wrote with one encoding and
// envelope. It is safe for concurrent use.
type Decoder struct {
	enc kafka.Encoding
	deb bool
	reg *registry.Client // Avro only
	mu  sync.Mutex
	sch map[int]avro.Schema
}

// NewDecoder returns a decoder for records written with enc and env;
// registryURL is required for Avro (schemas are fetched by the id in each
// record and cached).
func NewDecoder(enc kafka.Encoding, env kafka.Envelope, registryURL string) (*Decoder, error) {
	d := &Decoder{enc: enc, deb: env == kafka.EnvelopeDebezium, sch: map[int]avro.Schema{}}
	if enc == kafka.Avro {
		c, err := registry.New(registry.Config{URL: registryURL})
		if err != nil {
			return nil, fmt.Errorf("kafkaread: %w", err)
		}
		d.reg = c
	}
	return d, nil
}

// Decode decodes one record of table (a tombstone when value is nil).
// Columns of table missing from the record's schema (added later) read as
// NULL; columns the source did not send read as sluice.Unchanged.
func (d *Decoder) Decode(table *sluice.Table, key, value []byte) (Decoded, error) {
	var out Decoded
	var err error
	if d.enc == kafka.JSON {
		out, err = decodeJSON(table, d.deb, key, value)
	} else {
		out, err = d.decodeAvro(table, key, value)
	}
	if err != nil {
		return out, fmt.Errorf("kafkaread: table %s: %w", table.ID, err)
	}
	return out, nil
}

func (d *Decoder) schema(id int) (avro.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.sch[id]; ok {
		return s, nil
	}
	// A fresh client-side fetch by id, as an independent consumer would do.
	txt, err := d.reg.SchemaByID(context.Background(), id)
	if err != nil {
		return nil, err
	}
	s, err := avro.ParseWithCache(txt, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("parsing schema %d: %w", id, err)
	}
	d.sch[id] = s
	return s, nil
}

func (d *Decoder) unmarshal(data []byte) (map[string]any, int, error) {
	if len(data) < 5 || data[0] != 0 {
		return nil, 0, fmt.Errorf("not Confluent wire format: % x", data[:min(len(data), 5)])
	}
	id := int(binary.BigEndian.Uint32(data[1:5]))
	s, err := d.schema(id)
	if err != nil {
		return nil, id, err
	}
	var out map[string]any
	if err := avro.Unmarshal(s, data[5:], &out); err != nil {
		return nil, id, fmt.Errorf("decoding with schema %d: %w", id, err)
	}
	return out, id, nil
}

func (d *Decoder) decodeAvro(tbl *sluice.Table, key, val []byte) (Decoded, error) {
	deb := d.deb
	var out Decoded
	var err error
	if key != nil {
		if out.Key, out.KeyID, err = d.unmarshal(key); err != nil {
			return out, fmt.Errorf("key: %w", err)
		}
	}
	if val == nil {
		out.Tombstone = true
		return out, nil
	}
	env, id, err := d.unmarshal(val)
	if err != nil {
		return out, fmt.Errorf("value: %w", err)
	}
	out.ValID = id
	out.Op, _ = env["op"].(string)
	out.Source, _ = env["source"].(map[string]any)
	if u, ok := env["unchanged"].([]any); ok {
		for _, n := range u {
			if name, ok := n.(string); ok {
				out.Unchanged = append(out.Unchanged, name)
			}
		}
	}
	s, _ := d.schema(id)
	fields := valueFields(s)
	for _, side := range []string{"before", "after"} {
		rec, ok := unwrapUnion(env[side]).(map[string]any)
		if !ok {
			continue
		}
		row := make(sluice.Row, len(tbl.Columns))
		for i, c := range tbl.Columns {
			f, ok := fields[c.Name]
			if !ok { // a column added after this message was written
				row[i] = nil
				continue
			}
			v, err := fromAvro(c, unwrapUnion(rec[f]), deb)
			if err != nil {
				return out, fmt.Errorf("%s column %q: %w", side, c.Name, err)
			}
			row[i] = v
		}
		if side == "before" {
			out.Before = row
		} else {
			out.After = row
		}
	}
	if out.After != nil {
		for _, n := range out.Unchanged {
			if i := tbl.ColumnIndex(n); i >= 0 {
				out.After[i] = sluice.Unchanged
			}
		}
	}
	return out, nil
}

// unwrapUnion undoes hamba/avro's generic decoding of a union branch
// holding a named or logical type: {"type.name": value}.
func unwrapUnion(v any) any {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return v
	}
	for k, x := range m {
		switch k {
		case "string", "bytes", "int", "long", "float", "double", "boolean", "array", "map":
			return x
		}
		if strings.Contains(k, ".") {
			return x
		}
	}
	return v
}

// valueFields maps column names to the Avro field names of the envelope's
// Value record (the "sluice.column" property holds a sanitized name's
// original).
func valueFields(env avro.Schema) map[string]string {
	for _, f := range env.(*avro.RecordSchema).Fields() {
		if f.Name() != "before" {
			continue
		}
		for _, t := range f.Type().(*avro.UnionSchema).Types() {
			if r, ok := t.(*avro.RecordSchema); ok {
				names := map[string]string{}
				for _, ff := range r.Fields() {
					col := ff.Name()
					if p, ok := ff.Prop("sluice.column").(string); ok {
						col = p
					}
					names[col] = ff.Name()
				}
				return names
			}
		}
	}
	return nil
}

func ratToDecimal(r *big.Rat, scale int) sluice.Decimal {
	return sluice.Decimal(r.FloatString(scale))
}

// fromAvro converts a value Decoded by hamba/avro to the neutral
// representation of column c's kind.
func fromAvro(c sluice.Column, v any, deb bool) (any, error) {
	if v == nil {
		return nil, nil
	}
	t := c.Type
	bad := func() (any, error) { return nil, fmt.Errorf("unexpected Avro value %T %v for %s", v, v, t) }
	switch t.Kind {
	case sluice.KindBool:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		return x, nil
	case sluice.KindInt, sluice.KindYear:
		switch x := v.(type) {
		case int:
			return int64(x), nil
		case int64:
			return x, nil
		}
		return bad()
	case sluice.KindUint:
		switch x := v.(type) {
		case int:
			return uint64(x), nil
		case int64:
			return uint64(x), nil
		case *big.Rat:
			if !x.IsInt() {
				return bad()
			}
			return x.Num().Uint64(), nil
		}
		return bad()
	case sluice.KindFloat32:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		return x, nil
	case sluice.KindFloat64:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		return x, nil
	case sluice.KindDecimal:
		switch x := v.(type) {
		case *big.Rat:
			return ratToDecimal(x, t.Scale), nil
		case string:
			return sluice.Decimal(x), nil
		}
		return bad()
	case sluice.KindString, sluice.KindEnum, sluice.KindSet, sluice.KindUUID:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		return x, nil
	case sluice.KindBytes:
		x, ok := v.([]byte)
		if !ok {
			return bad()
		}
		return x, nil
	case sluice.KindJSON:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		return sluice.JSON(x), nil
	case sluice.KindGeometry:
		switch x := v.(type) {
		case []byte:
			return sluice.Geometry(x), nil
		case map[string]any:
			return sluice.Geometry(x["wkb"].([]byte)), nil
		}
		return bad()
	case sluice.KindDate:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		if x.Unix()/86400 == -2147483648 {
			return sluice.Date{}, nil
		}
		return sluice.DateOf(x.UTC()), nil
	case sluice.KindTime:
		switch x := v.(type) {
		case time.Duration:
			return x, nil
		case int64:
			return time.Duration(x) * time.Microsecond, nil
		}
		return bad()
	case sluice.KindDateTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case int64:
			if t.Scale <= 3 {
				return time.UnixMilli(x).UTC(), nil
			}
			return time.UnixMicro(x).UTC(), nil
		}
		return bad()
	case sluice.KindTimestamp:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case string:
			p, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, err
			}
			return p.UTC(), nil
		}
		return bad()
	case sluice.KindBit:
		switch x := v.(type) {
		case int64:
			return uint64(x), nil
		case bool:
			if x {
				return uint64(1), nil
			}
			return uint64(0), nil
		case []byte:
			var u uint64
			for i, b := range x {
				u |= uint64(b) << (8 * i)
			}
			return u, nil
		}
		return bad()
	}
	return bad()
}

// decodeJSON decodes a JSON-encoded message of table tbl.
func decodeJSON(tbl *sluice.Table, deb bool, key, val []byte) (Decoded, error) {
	var out Decoded
	if key != nil {
		if err := json.Unmarshal(key, &out.Key); err != nil {
			return out, fmt.Errorf("key: %w", err)
		}
	}
	if val == nil {
		out.Tombstone = true
		return out, nil
	}
	var env struct {
		Before, After map[string]json.RawMessage
		Source        map[string]any
		Op            string
		Unchanged     []string
	}
	if err := json.Unmarshal(val, &env); err != nil {
		return out, fmt.Errorf("value: %w", err)
	}
	out.Op, out.Source, out.Unchanged = env.Op, env.Source, env.Unchanged
	toRow := func(side map[string]json.RawMessage) (sluice.Row, error) {
		if side == nil {
			return nil, nil
		}
		row := make(sluice.Row, len(tbl.Columns))
		for i, c := range tbl.Columns {
			raw, ok := side[c.Name]
			if !ok {
				row[i] = sluice.Unchanged
				continue
			}
			v, err := fromJSON(c, raw, deb)
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", c.Name, err)
			}
			row[i] = v
		}
		return row, nil
	}
	var err error
	if out.Before, err = toRow(env.Before); err != nil {
		return out, fmt.Errorf("before: %w", err)
	}
	if out.After, err = toRow(env.After); err != nil {
		return out, fmt.Errorf("after: %w", err)
	}
	return out, nil
}

func fromJSON(c sluice.Column, raw json.RawMessage, deb bool) (any, error) {
	s := string(raw)
	if s == "null" {
		return nil, nil
	}
	unq := func() (string, error) {
		var x string
		err := json.Unmarshal(raw, &x)
		return x, err
	}
	t := c.Type
	switch t.Kind {
	case sluice.KindBool:
		return s == "true", nil
	case sluice.KindInt, sluice.KindYear:
		return strconv.ParseInt(s, 10, 64)
	case sluice.KindUint, sluice.KindBit:
		return strconv.ParseUint(s, 10, 64)
	case sluice.KindFloat32:
		f, err := strconv.ParseFloat(s, 32)
		return float32(f), err
	case sluice.KindFloat64:
		return strconv.ParseFloat(s, 64)
	case sluice.KindDecimal:
		x, err := unq()
		return sluice.Decimal(x), err
	case sluice.KindString, sluice.KindEnum, sluice.KindSet, sluice.KindUUID:
		return unq()
	case sluice.KindBytes, sluice.KindGeometry:
		x, err := unq()
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(x)
		if t.Kind == sluice.KindGeometry {
			return sluice.Geometry(b), err
		}
		return b, err
	case sluice.KindJSON:
		if deb {
			x, err := unq()
			return sluice.JSON(x), err
		}
		return sluice.JSON(raw), nil
	case sluice.KindDate:
		x, err := unq()
		if err != nil {
			return nil, err
		}
		return sluice.ParseDate(x)
	case sluice.KindTime:
		x, err := unq()
		if err != nil {
			return nil, err
		}
		neg := strings.HasPrefix(x, "-")
		x = strings.TrimPrefix(x, "-")
		var h, m int
		var sec float64
		if _, err := fmt.Sscanf(x, "%d:%d:%f", &h, &m, &sec); err != nil {
			return nil, err
		}
		parts := strings.SplitN(x, ".", 2)
		us := int64(0)
		if len(parts) == 2 {
			frac := (parts[1] + "000000")[:6]
			us, _ = strconv.ParseInt(frac, 10, 64)
		}
		d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(int64(sec))*time.Second + time.Duration(us)*time.Microsecond
		if neg {
			d = -d
		}
		return d, nil
	case sluice.KindDateTime:
		x, err := unq()
		if err != nil {
			return nil, err
		}
		return time.Parse("2006-01-02T15:04:05.999999", x)
	case sluice.KindTimestamp:
		x, err := unq()
		if err != nil {
			return nil, err
		}
		p, err := time.Parse(time.RFC3339Nano, x)
		return p.UTC(), err
	}
	return nil, fmt.Errorf("no JSON decoding for %s", t)
}
