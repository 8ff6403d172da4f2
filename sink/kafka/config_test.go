package kafka_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sluicecdc/sluice"
	"github.com/sluicecdc/sluice/internal/testenv"
	"github.com/sluicecdc/sluice/sink"
	"github.com/sluicecdc/sluice/sink/kafka"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  kafka.Config
		want []string // substrings of the error; none means valid
	}{
		{"empty", kafka.Config{}, []string{"broker is required in Brokers", "Registry.URL is required"}},
		{"json ok", kafka.Config{Brokers: []string{"h:9092"}, Encoding: kafka.JSON}, nil},
		{"avro ok", kafka.Config{Brokers: []string{"h:9092"}, Registry: kafka.RegistryConfig{URL: "http://r:8081"}}, nil},
		{"bad broker", kafka.Config{Brokers: []string{"nohost"}, Encoding: kafka.JSON}, []string{`Brokers[0] "nohost"`}},
		{"bad registry url", kafka.Config{Brokers: []string{"h:1"}, Registry: kafka.RegistryConfig{URL: "r:8081"}}, []string{"must start with http"}},
		{"single without name", kafka.Config{Brokers: []string{"h:1"}, Encoding: kafka.JSON, Topic: kafka.TopicConfig{Routing: kafka.Single}}, []string{"Topic.Name is required"}},
		{"template without table", kafka.Config{Brokers: []string{"h:1"}, Encoding: kafka.JSON, Topic: kafka.TopicConfig{Routing: kafka.Template, Template: "cdc.{schema}"}}, []string{"must contain {table}"}},
		{"sasl without mechanism", kafka.Config{Brokers: []string{"h:1"}, Encoding: kafka.JSON, SASL: kafka.SASLConfig{Username: "u", Password: "secret-pw"}}, []string{"SASL.Mechanism is empty"}},
		{"sasl unknown", kafka.Config{Brokers: []string{"h:1"}, Encoding: kafka.JSON, SASL: kafka.SASLConfig{Mechanism: "GSSAPI", Username: "u"}}, []string{`"GSSAPI" is unsupported`}},
		{"scram without user", kafka.Config{Brokers: []string{"h:1"}, Encoding: kafka.JSON, SASL: kafka.SASLConfig{Mechanism: kafka.SASLScramSHA512, Password: "secret-pw"}}, []string{"SASL.Username is required"}},
		{"tiny batch", kafka.Config{Brokers: []string{"h:1"}, Encoding: kafka.JSON, BatchBytes: 10}, []string{"BatchBytes (10)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if tc.cfg.ServerName != "sluice" || tc.cfg.Topic.Prefix != "sluice" || tc.cfg.RetryWindow != kafka.DefaultRetryWindow || tc.cfg.BatchBytes != kafka.DefaultBatchBytes {
					t.Errorf("defaults not filled: %+v", tc.cfg)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", tc.cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret-pw") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

// SPEC N2: credentials never appear in logs or printed configs.
func TestCredentialsRedacted(t *testing.T) {
	cfg := kafka.Config{Brokers: []string{"h:1"}, SASL: kafka.SASLConfig{Mechanism: kafka.SASLScramSHA256, Username: "u", Password: "sasl-secret"},
		Registry: kafka.RegistryConfig{URL: "http://r:1", Username: "ru", Password: "reg-secret"}}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	log.Info("config", "sasl", cfg.SASL, "registry", cfg.Registry, "cfg", cfg)
	out := logs.String() + fmt.Sprintf("%v %+v", cfg, cfg)
	for _, secret := range []string{"sasl-secret", "reg-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("output leaks %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "[redacted]") {
		t.Errorf("expected [redacted] in %s", out)
	}
}

func topicsTable(t *testing.T, schema, name string) *sluice.Table {
	tb, err := sluice.NewTable(sluice.TableID{Schema: schema, Name: name}, []sluice.Column{
		{Name: "id", Type: sluice.Type{Kind: sluice.KindInt, Bits: 64}},
		{Name: "v", Type: sluice.Type{Kind: sluice.KindString}, Nullable: true},
	}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// SPEC K3: topic per table, single topic or template.
func TestTopicRouting(t *testing.T) {
	id := sluice.TableID{Schema: "shop", Name: "order items"}
	for _, tc := range []struct {
		topic kafka.TopicConfig
		want  string
	}{
		{kafka.TopicConfig{}, "sluice.shop.order_items"},
		{kafka.TopicConfig{Prefix: "prod"}, "prod.shop.order_items"},
		{kafka.TopicConfig{Routing: kafka.Single, Name: "all-changes"}, "all-changes"},
		{kafka.TopicConfig{Routing: kafka.Template, Template: "cdc.{schema}.{table}.v1"}, "cdc.shop.order_items.v1"},
	} {
		s, err := kafka.New(context.Background(), kafka.Config{Brokers: []string{"127.0.0.1:1"}, Encoding: kafka.JSON, Topic: tc.topic})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.TopicFor(id); got != tc.want {
			t.Errorf("%+v: topic %q, want %q", tc.topic, got, tc.want)
		}
	}
}

// SPEC K3: SASL/SCRAM (and PLAIN) and TLS against a broker requiring them;
// a wrong password fails without appearing in the error.
func TestSASLAndTLS(t *testing.T) {
	for _, o := range []testenv.KafkaOptions{
		{SASLMechanism: "SCRAM-SHA-256", TLS: true},
		{SASLMechanism: "SCRAM-SHA-512"},
		{SASLMechanism: "PLAIN", TLS: true},
	} {
		t.Run(fmt.Sprintf("%s tls=%v", o.SASLMechanism, o.TLS), func(t *testing.T) {
			b := testenv.NewKafka(t, o)
			kc := b.Kafka()
			tb := topicsTable(t, "sec", "t")
			cfg := kafka.Config{Brokers: kc.Brokers, Encoding: kafka.JSON, TLS: kc.TLSConfig,
				SASL: kafka.SASLConfig{Mechanism: kafka.SASLMechanism(kc.SASLMechanism), Username: kc.User, Password: kc.Password}}
			s, err := kafka.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := s.Write(ctx, &sink.Batch{Changes: []sluice.Change{{Op: sluice.OpInsert, Table: tb, After: sluice.Row{int64(1), "x"}}}}); err != nil {
				t.Fatalf("Write with valid credentials: %v", err)
			}
			if got := kc.Records(t, s.TopicFor(tb.ID), 1); len(got) != 1 {
				t.Fatalf("read %d records", len(got))
			}
			for _, c := range s.Precheck(ctx, nil) {
				if c.Status != sluice.StatusOK {
					t.Errorf("precheck: %s", c)
				}
			}

			bad := cfg
			bad.SASL.Password = "wrong-password-xyz"
			bad.RetryWindow = time.Millisecond
			s2, err := kafka.New(context.Background(), bad)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			err = s2.Write(ctx, &sink.Batch{Changes: []sluice.Change{{Op: sluice.OpInsert, Table: tb, After: sluice.Row{int64(2), "y"}}}})
			if err == nil {
				t.Fatal("Write with a wrong password succeeded")
			}
			if strings.Contains(err.Error(), "wrong-password-xyz") || strings.Contains(err.Error(), kc.Password) {
				t.Errorf("error leaks the password: %v", err)
			}
			checks := s2.Precheck(ctx, nil)
			if len(checks) == 0 || checks[0].Status != sluice.StatusFail {
				t.Errorf("precheck with a wrong password: %v", checks)
			}
		})
	}
}

// The registry over HTTPS with basic auth (Registry.TLS, Username/Password).
func TestRegistryTLSAndAuth(t *testing.T) {
	k := testenv.Kafka(t)
	reg := registrytest.NewTLS()
	defer reg.Close()
	ctx := context.Background()
	tb := topicsTable(t, "sec", "reg_tls")
	write := func(tlsOK bool) error {
		cfg := kafka.Config{Brokers: k.Brokers, ServerName: "regtls", Registry: kafka.RegistryConfig{URL: reg.URL()}}
		if tlsOK {
			cfg.Registry.TLS = reg.TLSConfig()
		}
		s, err := kafka.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		return s.Write(ctx, &sink.Batch{Changes: []sluice.Change{{Op: sluice.OpInsert, Table: tb, After: sluice.Row{int64(1), "x"}}}})
	}
	if err := write(false); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v, want a certificate error", err)
	}
	if err := write(true); err != nil {
		t.Fatalf("with Registry.TLS: %v", err)
	}
}
