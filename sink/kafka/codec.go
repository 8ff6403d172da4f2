package kafka

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/sluicecdc/sluice"
)

// Version is written in the Debezium source block's "version" field.
const Version = "sluice-0.1"

// column is one column's encoders, built once per table version.
type column struct {
	idx      int
	name     string // the source's column name (JSON keys)
	field    string // the Avro field name (sanitized)
	nullable bool
	avro     appendFn
	json     appendFn
	jsonKey  []byte // `"name":`
	zeroAvro []byte // Avro encoding of the kind's zero value (Unchanged in a NOT NULL column)
}

// codec encodes the messages of one table version. Built once per *Table.
type codec struct {
	table *sluice.Table
	topic *topicState
	enc   Encoding
	deb   bool

	cols []column
	key  []column

	// Avro.
	ns                       string
	keySchema, valueSchema   string
	keySubject, valueSubject string
	keyHeader, valueHeader   [5]byte // magic byte 0 + schema id
	srcPrefix, srcMid        []byte  // constant parts of the source record
	// JSON.
	jSrcPrefix, jSrcMid []byte

	// keylessHash partitions a table without a key (all its changes go to
	// one partition, so they stay in order).
	keylessHash []byte
}

// avroName makes s a valid Avro name: [A-Za-z_][A-Za-z0-9_]*, other
// characters replaced by '_' (like Debezium's field.name.adjustment.mode=avro).
func avroName(s string) string {
	var b strings.Builder
	for i, r := range s {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
		if !ok && i == 0 && r >= '0' && r <= '9' {
			b.WriteByte('_')
			b.WriteRune(r)
			continue
		}
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// namespace is the Avro namespace of a table: <server>.<schema>.<table>.
func namespace(server string, id sluice.TableID) string {
	parts := []string{avroName(server)}
	if id.Schema != "" {
		parts = append(parts, avroName(id.Schema))
	}
	parts = append(parts, avroName(id.Name))
	return strings.Join(parts, ".")
}

// zeroValue is the representation of a kind's zero, written for Unchanged in
// a NOT NULL column (the column is also listed in the envelope's
// "unchanged" field).
func zeroValue(k sluice.Kind) any {
	switch k {
	case sluice.KindBool:
		return false
	case sluice.KindInt, sluice.KindYear:
		return int64(0)
	case sluice.KindUint, sluice.KindBit:
		return uint64(0)
	case sluice.KindFloat32:
		return float32(0)
	case sluice.KindFloat64:
		return float64(0)
	case sluice.KindDecimal:
		return sluice.Decimal("0")
	case sluice.KindString, sluice.KindEnum, sluice.KindSet:
		return ""
	case sluice.KindUUID:
		return "00000000-0000-0000-0000-000000000000"
	case sluice.KindBytes:
		return []byte{}
	case sluice.KindDate:
		return sluice.Date{Year: 1970, Month: 1, Day: 1}
	case sluice.KindJSON:
		return sluice.JSON("null")
	case sluice.KindGeometry:
		return sluice.Geometry{}
	}
	return nil
}

var (
	durationZero any = time.Duration(0)
	epoch        any = time.Unix(0, 0).UTC()
)

// newCodec builds the encoders and, for Avro, the key and value schemas of
// table t. It does not talk to the registry.
func newCodec(cfg *Config, t *sluice.Table, topic *topicState) (*codec, error) {
	c := &codec{table: t, topic: topic, enc: cfg.Encoding, deb: cfg.Envelope == EnvelopeDebezium}
	c.ns = namespace(cfg.ServerName, t.ID)
	used := map[string]bool{}
	namedValue := map[string]bool{}
	valueFields := make([]any, 0, len(t.Columns))
	for i, col := range t.Columns {
		am, err := avroMapping(col.Type, c.deb, namedValue)
		if err != nil {
			return nil, fmt.Errorf("table %s column %q: %w", t.ID, col.Name, err)
		}
		jm := jsonMapping(col.Type, c.deb)
		if jm == nil {
			return nil, fmt.Errorf("table %s column %q: kind %s has no JSON mapping", t.ID, col.Name, col.Type.Kind)
		}
		field := avroName(col.Name)
		for n := 2; used[field]; n++ {
			field = fmt.Sprintf("%s_%d", avroName(col.Name), n)
		}
		used[field] = true
		cc := column{idx: i, name: col.Name, field: field, nullable: col.Nullable, avro: am.enc, json: jm}
		cc.jsonKey = append(appendJSONString(nil, col.Name), ':')
		zv := zeroValue(col.Type.Kind)
		switch col.Type.Kind {
		case sluice.KindTime:
			zv = durationZero
		case sluice.KindDateTime, sluice.KindTimestamp:
			zv = epoch
		}
		if cc.zeroAvro, err = am.enc(nil, zv); err != nil {
			return nil, fmt.Errorf("table %s column %q: zero value: %w", t.ID, col.Name, err)
		}
		c.cols = append(c.cols, cc)
		f := map[string]any{"name": field}
		if field != col.Name {
			f["sluice.column"] = col.Name
		}
		if col.Nullable {
			f["type"] = []any{"null", am.typ}
			f["default"] = nil
		} else {
			f["type"] = am.typ
		}
		valueFields = append(valueFields, f)
	}
	namedKey := map[string]bool{}
	keyFields := make([]any, 0, len(t.Key))
	for _, k := range t.Key {
		cc := c.cols[k]
		c.key = append(c.key, cc)
		am, _ := avroMapping(t.Columns[k].Type, c.deb, namedKey)
		f := map[string]any{"name": cc.field}
		if cc.field != cc.name {
			f["sluice.column"] = cc.name
		}
		if cc.nullable {
			f["type"] = []any{"null", am.typ}
			f["default"] = nil
		} else {
			f["type"] = am.typ
		}
		keyFields = append(keyFields, f)
	}
	if len(t.Key) == 0 {
		c.keylessHash = []byte(topic.name + "\x00" + t.ID.String())
	}

	// Avro schemas.
	record := func(name string, fields []any) map[string]any {
		m := map[string]any{"type": "record", "name": name, "namespace": c.ns, "fields": fields}
		if c.deb {
			m["connect.name"] = c.ns + "." + name
		}
		return m
	}
	if len(t.Key) > 0 {
		ks, err := json.Marshal(record("Key", keyFields))
		if err != nil {
			return nil, fmt.Errorf("table %s: key schema: %w", t.ID, err)
		}
		c.keySchema = string(ks)
	}
	value := record("Value", valueFields)
	var source map[string]any
	var tsType any = "long"
	if c.deb {
		source = map[string]any{"type": "record", "name": "Source", "namespace": "io.debezium.connector.sluice", "connect.name": "io.debezium.connector.sluice.Source",
			"fields": []any{
				map[string]any{"name": "version", "type": "string"},
				map[string]any{"name": "connector", "type": "string"},
				map[string]any{"name": "name", "type": "string"},
				map[string]any{"name": "ts_ms", "type": "long"},
				map[string]any{"name": "snapshot", "type": []any{map[string]any{"type": "string", "connect.version": 1, "connect.parameters": map[string]string{"allowed": "true,last,false,incremental"}, "connect.default": "false", "connect.name": "io.debezium.data.Enum"}, "null"}, "default": "false"},
				map[string]any{"name": "db", "type": "string"},
				map[string]any{"name": "sequence", "type": []any{"null", "string"}, "default": nil},
				map[string]any{"name": "table", "type": []any{"null", "string"}, "default": nil},
				map[string]any{"name": "position", "type": []any{"null", "bytes"}, "default": nil},
			}}
		tsType = []any{"null", "long"}
	} else {
		source = map[string]any{"type": "record", "name": "Source", "namespace": "sluice",
			"fields": []any{
				map[string]any{"name": "name", "type": "string"},
				map[string]any{"name": "db", "type": "string"},
				map[string]any{"name": "table", "type": "string"},
				map[string]any{"name": "position", "type": []any{"null", "bytes"}, "default": nil},
				map[string]any{"name": "ts_ms", "type": "long"},
				map[string]any{"name": "snapshot", "type": "boolean"},
			}}
	}
	envFields := []any{
		map[string]any{"name": "before", "type": []any{"null", value}, "default": nil},
		map[string]any{"name": "after", "type": []any{"null", c.ns + ".Value"}, "default": nil},
		map[string]any{"name": "source", "type": source},
		map[string]any{"name": "op", "type": "string"},
		map[string]any{"name": "ts_ms", "type": tsType},
		map[string]any{"name": "unchanged", "type": map[string]any{"type": "array", "items": "string"}, "default": []any{}},
	}
	if !c.deb {
		envFields[4] = map[string]any{"name": "ts_ms", "type": "long"}
	}
	vs, err := json.Marshal(record("Envelope", envFields))
	if err != nil {
		return nil, fmt.Errorf("table %s: value schema: %w", t.ID, err)
	}
	c.valueSchema = string(vs)
	// Check our own output once per table version: a schema hamba/avro
	// cannot parse would be refused by the registry anyway.
	if cfg.Encoding == Avro {
		for _, s := range []string{c.keySchema, c.valueSchema} {
			if s == "" {
				continue
			}
			if _, err := avro.ParseWithCache(s, "", &avro.SchemaCache{}); err != nil {
				return nil, fmt.Errorf("table %s: generated Avro schema is invalid: %w", t.ID, err)
			}
		}
	}
	if cfg.Registry.SubjectStrategy == RecordNameStrategy {
		c.keySubject, c.valueSubject = c.ns+".Key", c.ns+".Envelope"
	} else {
		c.keySubject, c.valueSubject = topic.name+"-key", topic.name+"-value"
	}

	// Constant parts of the source block.
	db, tbl := t.ID.Schema, t.ID.Name
	if c.deb {
		c.srcPrefix = appendAvroString(appendAvroString(appendAvroString(nil, Version), "sluice"), cfg.ServerName)
		c.srcMid = appendAvroString(c.srcMid, db)
		c.srcMid = appendLong(c.srcMid, 0) // sequence: null
		c.srcMid = appendAvroString(appendLong(c.srcMid, 1), tbl)
		c.jSrcPrefix = fmt.Appendf(nil, `{"version":%s,"connector":"sluice","name":%s,"ts_ms":`, appendJSONString(nil, Version), appendJSONString(nil, cfg.ServerName))
		c.jSrcMid = fmt.Appendf(nil, `,"db":%s,"sequence":null,"table":%s,"position":`, appendJSONString(nil, db), appendJSONString(nil, tbl))
	} else {
		c.srcPrefix = appendAvroString(appendAvroString(appendAvroString(nil, cfg.ServerName), db), tbl)
		c.jSrcPrefix = fmt.Appendf(nil, `{"name":%s,"db":%s,"table":%s,"position":`, appendJSONString(nil, cfg.ServerName), appendJSONString(nil, db), appendJSONString(nil, tbl))
	}
	return c, nil
}

func (c *codec) setIDs(keyID, valueID int) {
	c.keyHeader[0], c.valueHeader[0] = 0, 0
	binary.BigEndian.PutUint32(c.keyHeader[1:], uint32(keyID))
	binary.BigEndian.PutUint32(c.valueHeader[1:], uint32(valueID))
}

// msgInfo is what the envelope needs besides the rows.
type msgInfo struct {
	op       byte   // 'c', 'u', 'd', 'r', 't'
	pos      []byte // the change's own position (transaction ends only)
	tx       span   // the transaction id in Sink.buf
	tsMs     int64  // source commit time
	nowMs    int64  // processing time
	snapshot bool
}

var errNullInNotNull = errors.New("NULL in a NOT NULL column")

// appendKey appends the message key of row r (nil result for a keyless table).
func (c *codec) appendKey(b []byte, r sluice.Row) ([]byte, error) {
	var err error
	if c.enc == JSON {
		b = append(b, '{')
		for i, k := range c.key {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, k.jsonKey...)
			v := r[k.idx]
			if v == nil || sluice.IsUnchanged(v) {
				b = append(b, "null"...)
				continue
			}
			if b, err = k.json(b, v); err != nil {
				return b, fmt.Errorf("key column %q: %w", k.name, err)
			}
		}
		return append(b, '}'), nil
	}
	b = append(b, c.keyHeader[:]...)
	for _, k := range c.key {
		v := r[k.idx]
		if k.nullable {
			if v == nil {
				b = append(b, 0)
				continue
			}
			b = append(b, 2) // branch 1, zig-zag
		} else if v == nil {
			return b, fmt.Errorf("key column %q: %w", k.name, errNullInNotNull)
		}
		if b, err = k.avro(b, v); err != nil {
			return b, fmt.Errorf("key column %q: %w", k.name, err)
		}
	}
	return b, nil
}

// appendAvroRow appends a Value record; unchanged collects the names of
// columns whose value was not sent.
func (c *codec) appendAvroRow(b []byte, r sluice.Row, unchanged *[]string) ([]byte, error) {
	if len(r) != len(c.cols) {
		return b, fmt.Errorf("row has %d values for %d columns", len(r), len(c.cols))
	}
	var err error
	for i := range c.cols {
		col := &c.cols[i]
		v := r[i]
		if v == nil {
			if !col.nullable {
				return b, fmt.Errorf("column %q: %w", col.name, errNullInNotNull)
			}
			b = append(b, 0)
			continue
		}
		if sluice.IsUnchanged(v) {
			*unchanged = append(*unchanged, col.name)
			if col.nullable {
				b = append(b, 0)
			} else {
				b = append(b, col.zeroAvro...)
			}
			continue
		}
		if col.nullable {
			b = append(b, 2)
		}
		if b, err = col.avro(b, v); err != nil {
			return b, fmt.Errorf("column %q: %w", col.name, err)
		}
	}
	return b, nil
}

func (c *codec) appendJSONRow(b []byte, r sluice.Row, unchanged *[]string) ([]byte, error) {
	if len(r) != len(c.cols) {
		return b, fmt.Errorf("row has %d values for %d columns", len(r), len(c.cols))
	}
	var err error
	b = append(b, '{')
	first := true
	for i := range c.cols {
		col := &c.cols[i]
		v := r[i]
		if sluice.IsUnchanged(v) {
			*unchanged = append(*unchanged, col.name)
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, col.jsonKey...)
		if v == nil {
			b = append(b, "null"...)
			continue
		}
		if b, err = col.json(b, v); err != nil {
			return b, fmt.Errorf("column %q: %w", col.name, err)
		}
	}
	return append(b, '}'), nil
}

// appendValue appends the envelope of one change.
func (c *codec) appendValue(b []byte, before, after sluice.Row, m *msgInfo, unchanged []string) ([]byte, error) {
	var err error
	unchanged = unchanged[:0]
	if c.enc == JSON {
		b = append(b, `{"before":`...)
		if before == nil {
			b = append(b, "null"...)
		} else if b, err = c.appendJSONRow(b, before, &unchanged); err != nil {
			return b, fmt.Errorf("before: %w", err)
		}
		b = append(b, `,"after":`...)
		if after == nil {
			b = append(b, "null"...)
		} else if b, err = c.appendJSONRow(b, after, &unchanged); err != nil {
			return b, fmt.Errorf("after: %w", err)
		}
		b = append(b, `,"source":`...)
		b = append(b, c.jSrcPrefix...)
		if c.deb {
			b = appendInt(b, m.tsMs)
			b = append(b, `,"snapshot":`...)
			if m.snapshot {
				b = append(b, `"true"`...)
			} else {
				b = append(b, `"false"`...)
			}
			b = append(b, c.jSrcMid...)
			b = appendJSONPos(b, m.pos)
		} else {
			b = appendJSONPos(b, m.pos)
			b = append(b, `,"ts_ms":`...)
			b = appendInt(b, m.tsMs)
			b = append(b, `,"snapshot":`...)
			if m.snapshot {
				b = append(b, "true"...)
			} else {
				b = append(b, "false"...)
			}
		}
		b = append(b, `},"op":"`...)
		b = append(b, m.op)
		b = append(b, `","ts_ms":`...)
		b = appendInt(b, m.nowMs)
		if len(unchanged) > 0 {
			b = append(b, `,"unchanged":[`...)
			for i, n := range unchanged {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, n)
			}
			b = append(b, ']')
		}
		return append(b, '}'), nil
	}
	b = append(b, c.valueHeader[:]...)
	if before == nil {
		b = append(b, 0)
	} else {
		b = append(b, 2)
		if b, err = c.appendAvroRow(b, before, &unchanged); err != nil {
			return b, fmt.Errorf("before: %w", err)
		}
	}
	if after == nil {
		b = append(b, 0)
	} else {
		b = append(b, 2)
		if b, err = c.appendAvroRow(b, after, &unchanged); err != nil {
			return b, fmt.Errorf("after: %w", err)
		}
	}
	b = append(b, c.srcPrefix...)
	if c.deb {
		b = appendLong(b, m.tsMs)
		b = append(b, 0) // snapshot: string branch
		if m.snapshot {
			b = appendAvroString(b, "true")
		} else {
			b = appendAvroString(b, "false")
		}
		b = append(b, c.srcMid...)
		b = appendAvroPos(b, m.pos)
	} else {
		b = appendAvroPos(b, m.pos)
		b = appendLong(b, m.tsMs)
		b = appendAvroBool(b, m.snapshot)
	}
	b = append(b, 2, m.op) // op: string of length 1
	if c.deb {
		b = append(b, 2) // ts_ms: long branch
	}
	b = appendLong(b, m.nowMs)
	if len(unchanged) > 0 {
		b = appendLong(b, int64(len(unchanged)))
		for _, n := range unchanged {
			b = appendAvroString(b, n)
		}
	}
	return append(b, 0), nil
}

func appendAvroPos(b, pos []byte) []byte {
	if pos == nil {
		return append(b, 0)
	}
	return appendAvroBytes(append(b, 2), pos)
}

func appendJSONPos(b, pos []byte) []byte {
	if pos == nil {
		return append(b, "null"...)
	}
	return appendBase64(b, pos)
}

func appendInt(b []byte, v int64) []byte {
	var tmp [20]byte
	i := len(tmp)
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	for {
		i--
		tmp[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		tmp[i] = '-'
	}
	return append(b, tmp[i:]...)
}
