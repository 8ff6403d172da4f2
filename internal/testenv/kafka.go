package testenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// KafkaOptions configures StartKafka. The zero value is the configuration
// of the shared broker from Kafka.
type KafkaOptions struct {
	// Brokers is the number of brokers; 0 means 1.
	Brokers int
	// Partitions is the partition count of auto-created topics; 0 means 4.
	Partitions int
	// Topics are created up front with Partitions partitions.
	Topics []string
	// SASLMechanism enables SASL authentication: "PLAIN", "SCRAM-SHA-256"
	// or "SCRAM-SHA-512". Empty disables it.
	SASLMechanism string
	// User and Password are the SASL account; empty means "sluice" and a
	// random password.
	User, Password string
	// TLS makes the brokers listen with TLS, using a fresh self-signed
	// certificate for 127.0.0.1 that KafkaConn.TLSConfig trusts.
	TLS bool
}

// KafkaConn tells how to connect to a Kafka-protocol broker. (It cannot be
// named Kafka: that is the function returning the shared broker.)
type KafkaConn struct {
	// Brokers are the bootstrap addresses ("127.0.0.1:port").
	Brokers []string
	// SASLMechanism, User and Password are set when SASL is enabled.
	SASLMechanism, User, Password string
	// TLSConfig is a client configuration trusting the brokers'
	// certificate; nil without TLS.
	TLSConfig *tls.Config
}

// KafkaBroker is an in-process kfake cluster. Topics are created
// automatically on first use, with KafkaOptions.Partitions partitions.
type KafkaBroker struct {
	c    *kfake.Cluster
	conn *KafkaConn
}

// StartKafka starts an in-process Kafka-protocol cluster on loopback.
func StartKafka(o KafkaOptions) (*KafkaBroker, error) {
	if o.Brokers <= 0 {
		o.Brokers = 1
	}
	if o.Partitions <= 0 {
		o.Partitions = 4
	}
	conn := &KafkaConn{}
	opts := []kfake.Opt{
		kfake.NumBrokers(o.Brokers),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(o.Partitions),
	}
	if len(o.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(o.Partitions), o.Topics...))
	}
	if o.SASLMechanism != "" {
		switch o.SASLMechanism {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		default:
			return nil, fmt.Errorf("testenv: KafkaOptions.SASLMechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", o.SASLMechanism)
		}
		conn.SASLMechanism, conn.User, conn.Password = o.SASLMechanism, o.User, o.Password
		if conn.User == "" {
			conn.User = "sluice"
		}
		if conn.Password == "" {
			conn.Password = randomSecret()
		}
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser(conn.SASLMechanism, conn.User, conn.Password))
	}
	if o.TLS {
		server, client, err := selfSignedTLS()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kfake.TLS(server))
		conn.TLSConfig = client
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("testenv: starting the kfake Kafka cluster: %w", err)
	}
	conn.Brokers = c.ListenAddrs()
	return &KafkaBroker{c: c, conn: conn}, nil
}

// selfSignedTLS returns a server configuration with a fresh certificate for
// 127.0.0.1 and a client configuration trusting it.
func selfSignedTLS() (server, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("testenv: generating a TLS key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "sluice testenv"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("testenv: creating a TLS certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("testenv: parsing the TLS certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client, nil
}

// Kafka returns how to connect to the brokers.
func (b *KafkaBroker) Kafka() *KafkaConn {
	c := *b.conn
	c.Brokers = append([]string(nil), b.conn.Brokers...)
	if b.conn.TLSConfig != nil {
		c.TLSConfig = b.conn.TLSConfig.Clone()
	}
	return &c
}

// Cluster returns the kfake cluster, for fault injection (Control) and
// administration.
func (b *KafkaBroker) Cluster() *kfake.Cluster { return b.c }

// Close shuts the cluster down.
func (b *KafkaBroker) Close() error {
	b.c.Close()
	return nil
}

// ClientOpts returns franz-go options that connect to the brokers with the
// configured SASL and TLS.
func (k *KafkaConn) ClientOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}
	switch k.SASLMechanism {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: k.User, Pass: k.Password}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: k.User, Pass: k.Password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: k.User, Pass: k.Password}.AsSha512Mechanism()))
	}
	if k.TLSConfig != nil {
		opts = append(opts, kgo.DialTLSConfig(k.TLSConfig.Clone()))
	}
	return opts
}

// Client returns a franz-go client for the brokers (plus opts), closed when
// the test ends.
func (k *KafkaConn) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append(k.ClientOpts(), opts...)...)
	if err != nil {
		t.Fatalf("testenv: creating a Kafka client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Records reads topic from the start of every partition until it has n
// records and returns them (in order within each partition). It fails the
// test if fewer than n arrive within a minute.
func (k *KafkaConn) Records(t testing.TB, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append(k.ClientOpts(),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond),
	)...)
	if err != nil {
		t.Fatalf("testenv: creating a Kafka consumer: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("testenv: read %d of %d records from topic %q within a minute", len(recs), n, topic)
		}
		for _, e := range fs.Errors() {
			if e.Err != context.DeadlineExceeded && e.Err != context.Canceled {
				t.Logf("testenv: fetching %q partition %d: %v", e.Topic, e.Partition, e.Err)
			}
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

var sharedKafka lazy[*KafkaBroker]

// Kafka returns the package's shared in-process Kafka-protocol broker
// (kfake), starting it on first use: one broker, topics created on first
// use with 4 partitions, no SASL or TLS.
func Kafka(t testing.TB) *KafkaConn {
	t.Helper()
	b := sharedKafka.get(t, "Kafka broker", func(context.Context) (*KafkaBroker, func(bool), error) {
		b, err := StartKafka(KafkaOptions{})
		if err != nil {
			return nil, nil, err
		}
		return b, func(bool) { b.Close() }, nil
	})
	return b.Kafka()
}

// NewKafka starts a Kafka-protocol cluster owned by the test (for SASL, TLS
// or fault tests) and closes it when the test ends.
func NewKafka(t testing.TB, o KafkaOptions) *KafkaBroker {
	t.Helper()
	b, err := StartKafka(o)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
