package kafka

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Routing says how a change's topic is chosen.
type Routing uint8

// Topic routings.
const (
	// PerTable writes each table to its own topic "<Prefix>.<schema>.<table>"
	// (Debezium's naming). The default.
	PerTable Routing = iota
	// Single writes every table to Topic.Name.
	Single
	// Template writes to Topic.Template with "{prefix}", "{schema}" and
	// "{table}" replaced, e.g. "cdc.{schema}.{table}".
	Template
)

// Encoding is the message format.
type Encoding uint8

// Encodings.
const (
	// Avro writes keys and values in the Confluent wire format (magic byte 0,
	// 4-byte big-endian schema id, Avro binary) with schemas registered in a
	// Schema Registry. The default; Registry.URL is required.
	Avro Encoding = iota
	// JSON writes keys and values as JSON documents (see the package
	// documentation for the value representation). No registry is used.
	JSON
)

// Envelope is the layout of a message value.
type Envelope uint8

// Envelopes.
const (
	// EnvelopeSluice is the native layout: before, after, op, source
	// {name, db, table, position, ts_ms, snapshot}, ts_ms, unchanged, with
	// plain Avro logical types. The default.
	EnvelopeSluice Envelope = iota
	// EnvelopeDebezium mimics Debezium's layout and semantic types (record
	// names <prefix>.<db>.<table>.Envelope/Value/Key, the source block of a
	// Debezium connector, connect.name properties, io.debezium.time types) so
	// that existing Debezium consumers can read the messages.
	EnvelopeDebezium
)

// SubjectStrategy chooses the registry subject a schema is registered under.
type SubjectStrategy uint8

// Subject strategies (as named by Confluent).
const (
	// TopicNameStrategy registers "<topic>-key" and "<topic>-value". The default.
	TopicNameStrategy SubjectStrategy = iota
	// RecordNameStrategy registers under the record's full name, so several
	// tables can share a topic (Single routing) with independent evolution.
	RecordNameStrategy
)

// SASLMechanism names a SASL mechanism.
type SASLMechanism string

// Supported SASL mechanisms.
const (
	SASLNone        SASLMechanism = ""
	SASLPlain       SASLMechanism = "PLAIN"
	SASLScramSHA256 SASLMechanism = "SCRAM-SHA-256"
	SASLScramSHA512 SASLMechanism = "SCRAM-SHA-512"
)

// Defaults applied by Validate to zero fields.
const (
	DefaultServerName    = "sluice"
	DefaultBatchBytes    = 1 << 20
	DefaultBatchRecords  = 10000
	DefaultRetryWindow   = 30 * time.Second
	DefaultWriteTimeout  = 10 * time.Second
	DefaultDialTimeout   = 5 * time.Second
	DefaultMaxPartitions = 1000
)

// TopicConfig chooses topics.
type TopicConfig struct {
	// Routing is PerTable (default), Single or Template.
	Routing Routing
	// Prefix starts PerTable topic names; it defaults to Config.ServerName.
	Prefix string
	// Name is the topic of Single routing.
	Name string
	// Template is the topic pattern of Template routing, with {prefix},
	// {schema} and {table} placeholders.
	Template string
	// CreatePartitions, when above zero, creates missing topics with that many
	// partitions (and CreateReplication replicas, default 1). When zero the
	// topics must exist or the broker must auto-create them.
	CreatePartitions  int
	CreateReplication int
}

// RegistryConfig locates the Confluent-compatible Schema Registry.
type RegistryConfig struct {
	// URL is the registry's base URL, e.g. "http://registry:8081". Required
	// for Avro.
	URL string
	// Username and Password give HTTP basic authentication when Username is
	// set. They never appear in logs or errors.
	Username, Password string
	// SubjectStrategy is TopicNameStrategy (default) or RecordNameStrategy.
	SubjectStrategy SubjectStrategy
	// TLS configures HTTPS to the registry; nil uses the system defaults.
	TLS *tls.Config
	// HTTPClient overrides the HTTP client (TLS is then ignored).
	HTTPClient *http.Client
}

// String renders the config without the password.
func (r RegistryConfig) String() string {
	return fmt.Sprintf("{URL:%s Username:%s Password:%s SubjectStrategy:%d}", r.URL, r.Username, redact(r.Password), r.SubjectStrategy)
}

// LogValue keeps the password out of structured logs.
func (r RegistryConfig) LogValue() slog.Value { return slog.StringValue(r.String()) }

// SASLConfig authenticates to the brokers.
type SASLConfig struct {
	// Mechanism is SASLNone (default), SASLPlain, SASLScramSHA256 or
	// SASLScramSHA512.
	Mechanism SASLMechanism
	// Username and Password are the credentials; they never appear in logs or
	// errors.
	Username, Password string
}

// String renders the config without the password.
func (s SASLConfig) String() string {
	return fmt.Sprintf("{Mechanism:%s Username:%s Password:%s}", s.Mechanism, s.Username, redact(s.Password))
}

// LogValue keeps the password out of structured logs.
func (s SASLConfig) LogValue() slog.Value { return slog.StringValue(s.String()) }

func redact(p string) string {
	if p == "" {
		return ""
	}
	return "[redacted]"
}

// Config configures a Sink. Validate fills in defaults.
type Config struct {
	// Brokers are bootstrap addresses "host:port". Required.
	Brokers []string
	// Topic chooses the topics.
	Topic TopicConfig
	// Encoding is Avro (default) or JSON.
	Encoding Encoding
	// Envelope is EnvelopeSluice (default) or EnvelopeDebezium.
	Envelope Envelope
	// ServerName is the logical name of the source: the envelope's
	// source.name, the default topic prefix and the Avro namespace prefix.
	// Default "sluice".
	ServerName string
	// Tombstones writes a tombstone (the key with a null value) after each
	// delete, so that log compaction can drop the key.
	Tombstones bool
	// Registry locates the Schema Registry (Avro only).
	Registry RegistryConfig
	// TLS enables TLS to the brokers when not nil.
	TLS *tls.Config
	// SASL authenticates to the brokers.
	SASL SASLConfig
	// Compression of produce requests (kafka-go's codecs); zero is none.
	Compression kafkago.Compression
	// BatchBytes bounds one produce request (one partition) in bytes; a
	// partition's messages of a Write are sent as consecutive requests of at
	// most this size, each after the previous one was acknowledged. It must
	// not exceed the broker's message.max.bytes. Default 1 MiB.
	BatchBytes int
	// BatchRecords bounds the records of one produce request. Default 10000.
	// There is no linger setting: Write sends at once and returns when the
	// brokers acknowledged; the pipeline's Batch settings (MaxChanges,
	// MaxDelay) decide how many changes one Write carries.
	BatchRecords int
	// RetryWindow is how long Write keeps retrying a failing broker (with
	// backoff, resuming each partition at its first unacknowledged message)
	// before it returns the error. Default 30s; the pipeline may retry
	// the whole batch after that within its own window.
	RetryWindow time.Duration
	// WriteTimeout bounds one produce request. Default 10s.
	WriteTimeout time.Duration
	// DialTimeout bounds connecting (TLS and SASL included). Default 5s.
	DialTimeout time.Duration
	// Dial, when set, opens broker connections (through a proxy or tunnel);
	// TLS and SASL still apply on top of the returned connection.
	Dial DialFunc
	// Logger receives the sink's logs; nil means slog.Default().
	Logger *slog.Logger
}

func httpClientWithTLS(c *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = c
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Validate fills in defaults and returns an error listing every problem.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("at least one broker is required in Brokers (\"host:port\")"))
	}
	for i, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			errs = append(errs, fmt.Errorf("broker Brokers[%d] %q: want \"host:port\"", i, b))
		}
	}
	if c.ServerName == "" {
		c.ServerName = DefaultServerName
	}
	if c.Topic.Prefix == "" {
		c.Topic.Prefix = c.ServerName
	}
	switch c.Topic.Routing {
	case PerTable:
	case Single:
		if c.Topic.Name == "" {
			errs = append(errs, errors.New("Topic.Name is required with Single routing"))
		}
	case Template:
		if c.Topic.Template == "" || !strings.Contains(c.Topic.Template, "{table}") {
			errs = append(errs, fmt.Errorf("Topic.Template %q must contain {table} (placeholders: {prefix}, {schema}, {table})", c.Topic.Template))
		}
	default:
		errs = append(errs, fmt.Errorf("Topic.Routing %d is unknown: use PerTable, Single or Template", c.Topic.Routing))
	}
	if c.Topic.CreatePartitions < 0 || c.Topic.CreatePartitions > DefaultMaxPartitions {
		errs = append(errs, fmt.Errorf("Topic.CreatePartitions %d must be between 0 and %d", c.Topic.CreatePartitions, DefaultMaxPartitions))
	}
	if c.Topic.CreateReplication <= 0 {
		c.Topic.CreateReplication = 1
	}
	switch c.Encoding {
	case Avro:
		if c.Registry.URL == "" {
			errs = append(errs, errors.New("Registry.URL is required with Avro encoding (or use Encoding: JSON)"))
		} else if !strings.HasPrefix(c.Registry.URL, "http://") && !strings.HasPrefix(c.Registry.URL, "https://") {
			errs = append(errs, fmt.Errorf("Registry.URL %q must start with http:// or https://", c.Registry.URL))
		}
		if c.Registry.SubjectStrategy > RecordNameStrategy {
			errs = append(errs, fmt.Errorf("Registry.SubjectStrategy %d is unknown: use TopicNameStrategy or RecordNameStrategy", c.Registry.SubjectStrategy))
		}
		if c.Registry.Password != "" && c.Registry.Username == "" {
			errs = append(errs, errors.New("Registry.Password is set without Registry.Username"))
		}
	case JSON:
	default:
		errs = append(errs, fmt.Errorf("Encoding %d is unknown: use Avro or JSON", c.Encoding))
	}
	if c.Envelope > EnvelopeDebezium {
		errs = append(errs, fmt.Errorf("Envelope %d is unknown: use EnvelopeSluice or EnvelopeDebezium", c.Envelope))
	}
	switch c.SASL.Mechanism {
	case SASLNone:
		if c.SASL.Username != "" || c.SASL.Password != "" {
			errs = append(errs, errors.New("SASL credentials are set but SASL.Mechanism is empty: choose PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"))
		}
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if c.SASL.Username == "" {
			errs = append(errs, fmt.Errorf("SASL.Username is required with SASL mechanism %s", c.SASL.Mechanism))
		}
	default:
		errs = append(errs, fmt.Errorf("SASL.Mechanism %q is unsupported: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", string(c.SASL.Mechanism)))
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.BatchRecords == 0 {
		c.BatchRecords = DefaultBatchRecords
	}
	if c.RetryWindow == 0 {
		c.RetryWindow = DefaultRetryWindow
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.BatchBytes < 1024 || c.BatchRecords < 1 {
		errs = append(errs, fmt.Errorf("BatchBytes (%d) must be at least 1024 and BatchRecords (%d) at least 1", c.BatchBytes, c.BatchRecords))
	}
	if c.RetryWindow < 0 || c.WriteTimeout < 0 || c.DialTimeout < 0 {
		errs = append(errs, errors.New("RetryWindow, WriteTimeout and DialTimeout must not be negative"))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(errs) > 0 {
		return fmt.Errorf("kafka sink: invalid config: %w", errors.Join(errs...))
	}
	return nil
}
