package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	metadataAPI "github.com/segmentio/kafka-go/protocol/metadata"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/retry"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka/registry"
)

// Header keys of the records.
const (
	// HeaderTx identifies the source transaction of the change: 16 hex
	// digits of a 64-bit FNV-1a hash of the position at which the
	// transaction ends. (HeaderTx, HeaderSeq) identifies a change: a replay
	// after a restart repeats both, so consumers that must not see
	// duplicates drop a record (of the same key) whose pair they have
	// already seen. Absent only on the records of a transaction larger than
	// one batch that precede its last batch (its end is not known yet).
	HeaderTx = "sluice.tx"
	// HeaderSeq holds the decimal ordinal of the change within its source
	// transaction (0 for the first).
	HeaderSeq = "sluice.seq"
	// HeaderPos holds the full source position on the records of the change
	// that ends a transaction (Change.Pos): what a checkpoint stores, from
	// which the source can resume. The envelope's source.position holds the
	// same. (Positions can be large — the MySQL source's embeds the captured
	// tables' schemas — so only transaction ends carry them.)
	HeaderPos = "sluice.pos"
)

// Sentinel errors.
var (
	// ErrUnsupportedType is wrapped when a column's kind cannot be encoded.
	ErrUnsupportedType = errors.New("unsupported column type")
)

// Sink writes changes to Kafka. It implements sink.Sink and sink.Prechecker.
type Sink struct {
	cfg       Config
	log       *slog.Logger
	transport *kafkago.Transport
	client    *kafkago.Client
	reg       *registry.Client

	codecs    map[*sluice.Table]*codec
	topics    map[string]*topicState
	lastTable *sluice.Table
	lastCodec *codec

	// Scratch reused by every Write (Write is never concurrent).
	buf       []byte
	msgs      []message
	hdrs      []kafkago.Header
	touched   []*partGroup
	txID      []span
	unchanged []string
	seqCarry  uint64
	now       time.Time

	stats Stats
}

// Stats counts what the sink wrote (acknowledged messages only).
type Stats struct {
	Messages   int64 // records acknowledged, tombstones and truncates included
	KeyBytes   int64 // bytes of their keys
	ValueBytes int64 // bytes of their values
	// HeaderBytes counts header keys and values.
	HeaderBytes int64
}

// Stats returns the counters. Like Write, it must not be called
// concurrently with Write.
func (s *Sink) Stats() Stats { return s.stats }

var (
	_ sink.Sink         = (*Sink)(nil)
	_ sink.Prechecker   = (*Sink)(nil)
	_ sink.SchemaSyncer = (*Sink)(nil)
)

// span is a byte range of Sink.buf; start < 0 means nil.
type span struct{ start, end int }

// message is one Kafka record being written.
type message struct {
	key, val, seq, tx span
	pos               sluice.Position
	headers           []kafkago.Header
}

// topicState is a topic's partition count and the per-partition queues of
// the current Write.
type topicState struct {
	name   string
	groups []partGroup
}

// partGroup holds, in order, the messages of one partition in a Write.
type partGroup struct {
	topic     string
	partition int
	msgs      []int32
	acked     int // messages[:acked] are acknowledged
}

// New validates cfg and returns a sink. It does not connect: the first Write
// or Precheck does. Credentials in cfg are never logged.
func New(ctx context.Context, cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var mech sasl.Mechanism
	switch cfg.SASL.Mechanism {
	case SASLPlain:
		mech = plain.Mechanism{Username: cfg.SASL.Username, Password: cfg.SASL.Password}
	case SASLScramSHA256, SASLScramSHA512:
		algo := scram.SHA256
		if cfg.SASL.Mechanism == SASLScramSHA512 {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, cfg.SASL.Username, cfg.SASL.Password)
		if err != nil {
			return nil, fmt.Errorf("kafka sink: SASL %s for user %q: %w", cfg.SASL.Mechanism, cfg.SASL.Username, err)
		}
		mech = m
	}
	tr := &kafkago.Transport{
		DialTimeout: cfg.DialTimeout,
		TLS:         cfg.TLS,
		SASL:        mech,
		ClientID:    "sluice",
		MetadataTTL: 2 * time.Second,
	}
	if cfg.Dial != nil {
		tr.Dial = cfg.Dial
	}
	s := &Sink{
		cfg: cfg, log: cfg.Logger.With("sink", "kafka"), transport: tr,
		client: &kafkago.Client{Addr: kafkago.TCP(cfg.Brokers...), Transport: tr, Timeout: cfg.WriteTimeout},
		codecs: map[*sluice.Table]*codec{}, topics: map[string]*topicState{},
	}
	if cfg.Encoding == Avro {
		hc := cfg.Registry.HTTPClient
		if hc == nil && cfg.Registry.TLS != nil {
			hc = httpClientWithTLS(cfg.Registry.TLS)
		}
		reg, err := registry.New(registry.Config{URL: cfg.Registry.URL, Username: cfg.Registry.Username, Password: cfg.Registry.Password, HTTPClient: hc})
		if err != nil {
			return nil, fmt.Errorf("kafka sink: %w", err)
		}
		s.reg = reg
	}
	return s, nil
}

// Registry returns the sink's Schema Registry client (nil for JSON).
func (s *Sink) Registry() *registry.Client { return s.reg }

// TopicFor returns the topic the changes of table id are written to.
func (s *Sink) TopicFor(id sluice.TableID) string { return topicName(&s.cfg, id) }

// topicName routes a table to its topic; characters Kafka does not allow in
// topic names (anything but [A-Za-z0-9._-]) become '_'.
func topicName(cfg *Config, id sluice.TableID) string {
	var n string
	switch cfg.Topic.Routing {
	case Single:
		return cfg.Topic.Name
	case Template:
		n = strings.NewReplacer("{prefix}", cfg.Topic.Prefix, "{schema}", id.Schema, "{table}", id.Name).Replace(cfg.Topic.Template)
	default:
		n = cfg.Topic.Prefix
		if id.Schema != "" {
			n += "." + id.Schema
		}
		n += "." + id.Name
	}
	b := []byte(n)
	for i, c := range b {
		if !(c == '.' || c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) > 249 {
		b = b[:249]
	}
	return string(b)
}

// Write encodes the batch and returns nil only after the brokers
// acknowledged every message (acks=all). Each partition's messages are sent
// in order, one produce request at a time; partitions are written in
// parallel. A failure is retried within Config.RetryWindow, each partition
// resuming at its first unacknowledged message, so a key's messages are
// never reordered; a request whose acknowledgement was lost is sent again
// (at-least-once: duplicates, in order).
func (s *Sink) Write(ctx context.Context, b *sink.Batch) error {
	if len(b.Changes) == 0 {
		return nil
	}
	s.reset()
	s.now = time.Now()
	n := len(b.Changes)
	if cap(s.txID) < n {
		s.txID = make([]span, n)
	}
	s.txID = s.txID[:n]
	// Each change's transaction id: the hash of the next position in the
	// batch (the end of its transaction).
	next := span{-1, -1}
	for i := n - 1; i >= 0; i-- {
		if p := b.Changes[i].Pos; p != nil {
			next.start = len(s.buf)
			s.buf = appendHex64(s.buf, fnv64a(p))
			next.end = len(s.buf)
		}
		s.txID[i] = next
	}
	seq := s.seqCarry
	for i := range b.Changes {
		c := &b.Changes[i]
		if err := s.encodeChange(ctx, c, s.txID[i], seq); err != nil {
			return err
		}
		if c.Pos != nil {
			seq = 0
		} else if c.Op.IsRow() || c.Op == sluice.OpTruncate {
			seq++
		}
	}
	if err := s.send(ctx); err != nil {
		s.abandon()
		return err
	}
	s.seqCarry = seq
	s.stats.Messages += int64(len(s.msgs))
	for i := range s.msgs {
		m := &s.msgs[i]
		s.stats.KeyBytes += int64(max(m.key.end-m.key.start, 0))
		s.stats.ValueBytes += int64(max(m.val.end-m.val.start, 0))
		for _, h := range m.headers {
			s.stats.HeaderBytes += int64(len(h.Key) + len(h.Value))
		}
	}
	return nil
}

// abandon drops the scratch memory of a failed Write: a request given up
// on (a cancelled context) may still be encoding records from it in the
// transport, so it must never be reused.
func (s *Sink) abandon() {
	for _, g := range s.touched {
		g.msgs, g.acked = nil, 0
	}
	s.touched = s.touched[:0]
	s.buf, s.msgs, s.hdrs = nil, nil, nil
}

func (s *Sink) reset() {
	for _, g := range s.touched {
		g.msgs = g.msgs[:0]
		g.acked = 0
	}
	s.touched = s.touched[:0]
	s.buf = s.buf[:0]
	for i := range s.msgs {
		s.msgs[i] = message{}
	}
	s.msgs = s.msgs[:0]
}

// codecFor returns the codec of table t, building it (and registering its
// schemas) on first use of this table version.
func (s *Sink) codecFor(ctx context.Context, t *sluice.Table) (*codec, error) {
	if t == s.lastTable {
		return s.lastCodec, nil
	}
	c := s.codecs[t]
	if c == nil {
		name := topicName(&s.cfg, t.ID)
		ts, err := s.topic(ctx, name)
		if err != nil {
			return nil, err
		}
		c, err = newCodec(&s.cfg, t, ts)
		if err != nil {
			return nil, sluice.Permanent(fmt.Errorf("kafka sink: %w: %w", ErrUnsupportedType, err))
		}
		if s.cfg.Encoding == Avro {
			var kid, vid int
			if c.keySchema != "" {
				if kid, err = s.reg.Register(ctx, c.keySubject, c.keySchema); err != nil {
					return nil, registryErr(t, err)
				}
			}
			if vid, err = s.reg.Register(ctx, c.valueSubject, c.valueSchema); err != nil {
				return nil, registryErr(t, err)
			}
			c.setIDs(kid, vid)
			s.log.Info("registered Avro schemas", "table", t.ID.String(), "key_subject", c.keySubject, "key_id", kid, "value_subject", c.valueSubject, "value_id", vid)
		}
		s.codecs[t] = c
	}
	s.lastTable, s.lastCodec = t, c
	return c, nil
}

func registryErr(t *sluice.Table, err error) error {
	err = fmt.Errorf("kafka sink: table %s: %w", t.ID, err)
	var re *registry.Error
	if errors.As(err, &re) && re.Status >= 400 && re.Status < 500 {
		return sluice.Permanent(err)
	}
	return err
}

// topic returns the state of topic name, looking up (and optionally
// creating) it on first use.
func (s *Sink) topic(ctx context.Context, name string) (*topicState, error) {
	if ts := s.topics[name]; ts != nil {
		return ts, nil
	}
	n, err := s.partitions(ctx, name)
	if err != nil {
		return nil, err
	}
	ts := &topicState{name: name, groups: make([]partGroup, n)}
	for i := range ts.groups {
		ts.groups[i] = partGroup{topic: name, partition: i}
	}
	s.topics[name] = ts
	return ts, nil
}

func (s *Sink) partitions(ctx context.Context, topic string) (int, error) {
	created := false
	for attempt := 0; ; attempt++ {
		r, err := s.transport.RoundTrip(ctx, s.client.Addr, &metadataAPI.Request{
			TopicNames: []string{topic}, AllowAutoTopicCreation: s.cfg.Topic.CreatePartitions == 0,
		})
		if err != nil {
			return 0, fmt.Errorf("kafka sink: reading metadata of topic %q from %v: %w", topic, s.cfg.Brokers, err)
		}
		// A topic missing from the response (the transport answers from its
		// metadata cache) is unknown until the cache refreshes.
		kerr := kafkago.UnknownTopicOrPartition
		for _, t := range r.(*metadataAPI.Response).Topics {
			if t.Name != topic {
				continue
			}
			if t.ErrorCode == 0 && len(t.Partitions) > 0 {
				return len(t.Partitions), nil
			}
			kerr = kafkago.Error(t.ErrorCode)
			if t.ErrorCode == 0 {
				kerr = kafkago.LeaderNotAvailable
			}
		}
		if kerr == kafkago.UnknownTopicOrPartition && s.cfg.Topic.CreatePartitions > 0 && !created {
			if err := s.createTopic(ctx, topic); err != nil {
				return 0, err
			}
			created = true
			continue
		}
		if kerr.Temporary() && attempt < 100 {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		return 0, fmt.Errorf("kafka sink: topic %q: %w (remedy: create the topic, enable auto-creation on the broker, or set Topic.CreatePartitions)", topic, kerr)
	}
}

func (s *Sink) createTopic(ctx context.Context, topic string) error {
	res, err := s.client.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{
		Topic: topic, NumPartitions: s.cfg.Topic.CreatePartitions, ReplicationFactor: s.cfg.Topic.CreateReplication,
	}}})
	if err != nil {
		return fmt.Errorf("kafka sink: creating topic %q: %w", topic, err)
	}
	if e := res.Errors[topic]; e != nil && !errors.Is(e, kafkago.TopicAlreadyExists) {
		return fmt.Errorf("kafka sink: creating topic %q: %w", topic, e)
	}
	s.log.Info("created topic", "topic", topic, "partitions", s.cfg.Topic.CreatePartitions)
	return nil
}

// encodeChange appends the messages of one change.
func (s *Sink) encodeChange(ctx context.Context, c *sluice.Change, tx span, seq uint64) error {
	var op byte
	switch c.Op {
	case sluice.OpRead:
		op = 'r'
	case sluice.OpInsert:
		op = 'c'
	case sluice.OpUpdate:
		op = 'u'
	case sluice.OpDelete:
		op = 'd'
	case sluice.OpTruncate:
		op = 't'
	default:
		// Schema changes are not data messages: the next row of the new
		// table version registers its schema. Heartbeats never reach sinks.
		return nil
	}
	cd, err := s.codecFor(ctx, c.Table)
	if err != nil {
		return err
	}
	m := msgInfo{op: op, pos: c.Pos, tx: tx, tsMs: c.Time.UnixMilli(), nowMs: s.now.UnixMilli(), snapshot: c.Op == sluice.OpRead}
	if c.Time.IsZero() {
		m.tsMs = m.nowMs
	}
	var encErr error
	switch c.Op {
	case sluice.OpRead, sluice.OpInsert:
		encErr = s.add(cd, c.After, nil, c.After, &m, seq, -1, false)
	case sluice.OpDelete:
		encErr = s.add(cd, c.Before, c.Before, nil, &m, seq, -1, s.cfg.Tombstones)
	case sluice.OpUpdate:
		if cd.key != nil && !s.sameKey(cd, c.Before, c.After) {
			// A key change: delete the old key, create the new one (as
			// Debezium does), so per-key consumers and compaction agree.
			m.op = 'd'
			if encErr = s.add(cd, c.Before, c.Before, nil, &m, seq, -1, s.cfg.Tombstones); encErr == nil {
				m.op = 'c'
				encErr = s.add(cd, c.After, nil, c.After, &m, seq, -1, false)
			}
		} else {
			encErr = s.add(cd, c.After, c.Before, c.After, &m, seq, -1, false)
		}
	case sluice.OpTruncate:
		// Every partition gets the truncate, so that it is ordered against
		// every key's messages.
		for p := range cd.topic.groups {
			if encErr = s.add(cd, nil, nil, nil, &m, seq, p, false); encErr != nil {
				break
			}
		}
	}
	if encErr != nil {
		return sluice.Permanent(fmt.Errorf("kafka sink: encoding %s of table %s: %w", c.Op, c.Table.ID, encErr))
	}
	return nil
}

// sameKey reports whether before and after have the same encoded key.
func (s *Sink) sameKey(cd *codec, before, after sluice.Row) bool {
	for _, k := range cd.key {
		a, b := before[k.idx], after[k.idx]
		if sluice.IsUnchanged(b) {
			continue
		}
		if !sluice.Equal(a, b) {
			return false
		}
	}
	return true
}

// add appends one message: the key of keyRow (nil for a truncate), the
// envelope of before/after, and optionally a tombstone after it. partition
// < 0 means by key.
func (s *Sink) add(cd *codec, keyRow, before, after sluice.Row, m *msgInfo, seq uint64, partition int, tombstone bool) error {
	var msg message
	msg.pos, msg.tx = m.pos, m.tx
	var err error
	if keyRow != nil && cd.key != nil {
		msg.key.start = len(s.buf)
		if s.buf, err = cd.appendKey(s.buf, keyRow); err != nil {
			return err
		}
		msg.key.end = len(s.buf)
	} else {
		msg.key.start = -1
	}
	msg.val.start = len(s.buf)
	if s.buf, err = cd.appendValue(s.buf, before, after, m, s.unchanged); err != nil {
		return err
	}
	msg.val.end = len(s.buf)
	msg.seq.start = len(s.buf)
	s.buf = strconv.AppendUint(s.buf, seq, 10)
	msg.seq.end = len(s.buf)

	np := len(cd.topic.groups)
	if partition < 0 {
		if msg.key.start >= 0 {
			partition = int(partitionFor(s.buf[msg.key.start:msg.key.end], np))
		} else {
			partition = int(partitionFor(cd.keylessHash, np))
		}
	}
	s.push(cd.topic, partition, msg)
	if tombstone && msg.key.start >= 0 {
		t := message{key: msg.key, val: span{-1, -1}, seq: msg.seq, tx: msg.tx, pos: msg.pos}
		s.push(cd.topic, partition, t)
	}
	return nil
}

func (s *Sink) push(ts *topicState, partition int, msg message) {
	idx := int32(len(s.msgs))
	s.msgs = append(s.msgs, msg)
	g := &ts.groups[partition]
	if len(g.msgs) == 0 {
		s.touched = append(s.touched, g)
	}
	g.msgs = append(g.msgs, idx)
}

// send writes every partition group, retrying within the retry window.
func (s *Sink) send(ctx context.Context) error {
	// Headers: one arena for the whole Write (s.buf no longer grows).
	if cap(s.hdrs) < 3*len(s.msgs) {
		s.hdrs = make([]kafkago.Header, 3*len(s.msgs))
	}
	h := s.hdrs[:3*len(s.msgs)]
	for i := range s.msgs {
		m := &s.msgs[i]
		hh := h[3*i : 3*i : 3*i+3]
		if m.tx.start >= 0 {
			hh = append(hh, kafkago.Header{Key: HeaderTx, Value: s.buf[m.tx.start:m.tx.end]})
		}
		hh = append(hh, kafkago.Header{Key: HeaderSeq, Value: s.buf[m.seq.start:m.seq.end]})
		if m.pos != nil {
			hh = append(hh, kafkago.Header{Key: HeaderPos, Value: m.pos})
		}
		m.headers = hh
	}
	pol := retry.Policy{Window: s.cfg.RetryWindow, Initial: 100 * time.Millisecond, Max: 2 * time.Second}
	return pol.Do(ctx, s.sendPending, func(attempt int, since time.Time, err error) {
		s.log.Warn("writing to Kafka failed; retrying unacknowledged messages", "attempt", attempt, "failing_since", since, "err", err)
	})
}

// sendPending sends, per partition in parallel, every message not yet
// acknowledged, one request at a time per partition.
func (s *Sink) sendPending(ctx context.Context) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, g := range s.touched {
		if g.acked >= len(g.msgs) {
			continue
		}
		wg.Add(1)
		go func(g *partGroup) {
			defer wg.Done()
			if err := s.sendGroup(ctx, g); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

func (s *Sink) sendGroup(ctx context.Context, g *partGroup) error {
	for g.acked < len(g.msgs) {
		end, size := g.acked, 0
		for end < len(g.msgs) && end-g.acked < s.cfg.BatchRecords {
			m := &s.msgs[g.msgs[end]]
			ms := max(m.key.end-m.key.start, 0) + max(m.val.end-m.val.start, 0) + 64
			if end > g.acked && size+ms > s.cfg.BatchBytes {
				break
			}
			size += ms
			end++
		}
		rr := &recordReader{buf: s.buf, msgs: s.msgs, idx: g.msgs[g.acked:end], now: s.now}
		res, err := s.client.Produce(ctx, &kafkago.ProduceRequest{
			Topic: g.topic, Partition: g.partition, RequiredAcks: kafkago.RequireAll,
			Records: rr, Compression: s.cfg.Compression,
		})
		if err == nil && res != nil && res.Error != nil {
			err = res.Error
		}
		if err != nil {
			err = fmt.Errorf("kafka sink: producing %d messages to topic %q partition %d: %w", end-g.acked, g.topic, g.partition, err)
			var ke kafkago.Error
			if errors.As(err, &ke) && !ke.Temporary() && ke != kafkago.NotLeaderForPartition && ke != kafkago.UnknownTopicOrPartition {
				if ke == kafkago.MessageSizeTooLarge {
					err = fmt.Errorf("%w (remedy: raise the topic's max.message.bytes and the broker's message.max.bytes, or lower BatchBytes below them)", err)
				}
				return sluice.Permanent(err)
			}
			return err
		}
		g.acked = end
	}
	return nil
}

// recordReader feeds a run of messages to a produce request without
// copying them.
type recordReader struct {
	buf  []byte
	msgs []message
	idx  []int32
	i    int
	now  time.Time
	rec  kafkago.Record
	k, v bytesReadCloser
}

type bytesReadCloser struct{ bytes.Reader }

func (*bytesReadCloser) Close() error { return nil }

func (r *recordReader) ReadRecord() (*kafkago.Record, error) {
	if r.i >= len(r.idx) {
		return nil, io.EOF
	}
	m := &r.msgs[r.idx[r.i]]
	r.i++
	r.rec = kafkago.Record{Time: r.now, Headers: m.headers}
	if m.key.start >= 0 {
		r.k.Reset(r.buf[m.key.start:m.key.end])
		r.rec.Key = &r.k
	}
	if m.val.start >= 0 {
		r.v.Reset(r.buf[m.val.start:m.val.end])
		r.rec.Value = &r.v
	}
	return &r.rec, nil
}

// Precheck checks that a broker answers and (for Avro) that the registry
// answers and accepts the credentials, and that every column of tables can
// be encoded. It writes nothing.
func (s *Sink) Precheck(ctx context.Context, tables []*sluice.Table) []sluice.Check {
	var out []sluice.Check
	ck := sluice.Check{Item: "kafka: brokers reachable"}
	if _, err := s.client.Metadata(ctx, &kafkago.MetadataRequest{}); err != nil {
		ck.Status, ck.Cause = sluice.StatusFail, err.Error()
		ck.Remedy = "check Brokers, the network, TLS and SASL settings"
	}
	out = append(out, ck)
	if s.reg != nil {
		ck := sluice.Check{Item: "kafka: schema registry reachable"}
		if _, err := s.reg.Subjects(ctx); err != nil {
			ck.Status, ck.Cause = sluice.StatusFail, err.Error()
			ck.Remedy = "check Registry.URL and the registry credentials"
		}
		out = append(out, ck)
	}
	regOK := s.reg != nil && out[len(out)-1].Status == sluice.StatusOK
	for _, t := range tables {
		cd, err := newCodec(&s.cfg, t, &topicState{name: topicName(&s.cfg, t.ID)})
		if err != nil {
			out = append(out, sluice.Check{Item: "kafka: table " + t.ID.String() + ": column types", Status: sluice.StatusFail,
				Cause: err.Error(), Remedy: "map or deselect the column with a transform"})
			continue
		}
		if regOK {
			out = append(out, s.compatCheck(ctx, t, cd.keySubject, cd.keySchema), s.compatCheck(ctx, t, cd.valueSubject, cd.valueSchema))
		}
		if !t.HasKey() {
			out = append(out, sluice.Check{Item: "kafka: table " + t.ID.String() + ": primary key", Status: sluice.StatusWarn,
				Cause:  "the table has no key: its messages have a null key and all go to one partition",
				Remedy: "add a primary key to spread the table over partitions"})
		}
	}
	return out
}

// compatCheck asks the registry whether schema can be registered under
// subject, without registering it.
func (s *Sink) compatCheck(ctx context.Context, t *sluice.Table, subject, schema string) sluice.Check {
	ck := sluice.Check{Item: "kafka: table " + t.ID.String() + ": schema compatible with subject " + strconv.Quote(subject)}
	if schema == "" {
		return ck
	}
	ok, reasons, err := s.reg.Compatible(ctx, subject, schema)
	switch {
	case err != nil:
		ck.Status, ck.Cause = sluice.StatusFail, err.Error()
		ck.Remedy = "check the registry"
	case !ok:
		ck.Status, ck.Cause = sluice.StatusFail, "the registry would refuse the table's schema: "+strings.Join(reasons, "; ")
		ck.Remedy = "make the change compatible (e.g. add columns as nullable) or relax the subject's compatibility level (PUT /config/{subject})"
	}
	return ck
}

// SyncSchema creates the topics (with Topic.CreatePartitions) and
// registers the key and value schemas of tables before the initial sync,
// so that a refused schema fails the pipeline before anything is written.
func (s *Sink) SyncSchema(ctx context.Context, tables []*sluice.Table) error {
	for _, t := range tables {
		if _, err := s.codecFor(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the connections.
func (s *Sink) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// DialFunc dials a broker connection.
type DialFunc = func(ctx context.Context, network, address string) (net.Conn, error)

// fnv64a is the 64-bit FNV-1a hash.
func fnv64a(p []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range p {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

func appendHex64(b []byte, v uint64) []byte {
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hexDigits[(v>>uint(i))&0xf])
	}
	return b
}
