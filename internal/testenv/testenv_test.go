package testenv_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/sluicecdc/sluice/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// TestMariaDB proves the shared MariaDB is configured for binlog CDC (S1,
// P4): binlog on, ROW format, FULL row image, GTID, server id; and that
// both the password account and root can connect.
func TestMariaDB(t *testing.T) {
	my := testenv.MariaDB(t)
	if my.Port == 3306 || my.Host != "127.0.0.1" {
		t.Fatalf("server at %s, want a private loopback port", my.Addr())
	}
	if my.Password == "" || my.User != testenv.MariaDBUser {
		t.Fatalf("account %q has no password", my.User)
	}
	db := my.CreateDatabase(t)
	my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY, `v` VARCHAR(10))", "INSERT INTO `t` VALUES (1, 'ä')")

	// The password account: the credentials a Source or Sink would use.
	user, err := sql.Open("mysql", my.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer user.Close()
	ctx := context.Background()
	var v string
	if err := user.QueryRowContext(ctx, "SELECT `v` FROM `t` WHERE `id` = 1").Scan(&v); err != nil || v != "ä" {
		t.Fatalf("reading as %s: %q, %v", my.User, v, err)
	}
	var logBin, format, image, gtidPos, strict, charset string
	var serverID int
	err = user.QueryRowContext(ctx, "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@gtid_binlog_pos, @@gtid_strict_mode, @@server_id, @@character_set_server").
		Scan(&logBin, &format, &image, &gtidPos, &strict, &serverID, &charset)
	if err != nil {
		t.Fatal(err)
	}
	if logBin != "1" || format != "ROW" || image != "FULL" || strict != "1" || serverID != 1 || charset != "utf8mb4" {
		t.Fatalf("log_bin=%s binlog_format=%s binlog_row_image=%s gtid_strict_mode=%s server_id=%d charset=%s", logBin, format, image, strict, serverID, charset)
	}
	if gtidPos == "" {
		t.Fatal("gtid_binlog_pos is empty after a write")
	}
	// The account can read the binlog (REPLICATION SLAVE/CLIENT).
	rows, err := user.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		t.Fatalf("SHOW BINARY LOGS as %s: %v", my.User, err)
	}
	rows.Close()

	// A wrong password is refused: credentials are really checked.
	bad := *my
	bad.Password = "wrong"
	bd, _ := sql.Open("mysql", bad.DSN(""))
	defer bd.Close()
	if err := bd.PingContext(ctx); err == nil {
		t.Fatal("connecting with a wrong password succeeded")
	}
}

// TestMariaDBStopStart proves an owned server keeps its data and port
// across Stop/Start and Kill/Start (for P6 fault tests).
func TestMariaDBStopStart(t *testing.T) {
	s := testenv.NewMariaDB(t, testenv.MariaDBOptions{ServerID: 7, TimeZone: "+09:00"})
	my := s.MySQL()
	my.Exec(t, "", "CREATE DATABASE `d`", "CREATE TABLE `d`.`t` (`id` INT PRIMARY KEY)", "INSERT INTO `d`.`t` VALUES (1)")
	d := my.DB(t, "d")
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(); err == nil {
		t.Fatal("stopped server still answers")
	}
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	my.Exec(t, "d", "INSERT INTO `t` VALUES (2)")
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var n, id int
	var tz string
	if err := d.QueryRow("SELECT COUNT(*), @@server_id, @@time_zone FROM `t`").Scan(&n, &id, &tz); err != nil {
		t.Fatal(err)
	}
	if n != 2 || id != 7 || tz != "+09:00" {
		t.Fatalf("after restarts: %d rows, server_id %d, time_zone %s; want 2, 7, +09:00", n, id, tz)
	}
}

// TestPostgres proves the shared PostgreSQL is ready for logical
// replication (S4, P4): wal_level=logical, slots and senders available, a
// password-authenticated superuser, and a pgoutput slot can be created.
func TestPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	if pg.Port == 5432 || pg.Host != "127.0.0.1" {
		t.Fatalf("server at %s, want a private loopback port", pg.Addr())
	}
	if pg.Password == "" || pg.User != testenv.PostgresUser {
		t.Fatalf("account %q has no password", pg.User)
	}
	db := pg.CreateDatabase(t)
	pg.Exec(t, db, `CREATE TABLE "t" ("id" int PRIMARY KEY, "v" text); INSERT INTO "t" VALUES (1, 'ä')`)
	pool := pg.Pool(t, db)
	ctx := context.Background()
	var walLevel, slots, senders, v string
	if err := pool.QueryRow(ctx, `SELECT current_setting('wal_level'), current_setting('max_replication_slots'), current_setting('max_wal_senders'), (SELECT "v" FROM "t")`).
		Scan(&walLevel, &slots, &senders, &v); err != nil {
		t.Fatal(err)
	}
	if walLevel != "logical" || slots != "20" || senders != "20" || v != "ä" {
		t.Fatalf("wal_level=%s max_replication_slots=%s max_wal_senders=%s v=%q", walLevel, slots, senders, v)
	}
	// A slot left behind must not stop CreateDatabase's cleanup.
	if _, err := pool.Exec(ctx, `SELECT pg_create_logical_replication_slot('testenv_slot', 'pgoutput')`); err != nil {
		t.Fatal(err)
	}
	// A replication connection with the same credentials works.
	rc, err := pgconn.Connect(ctx, pg.ReplicationConnString(db))
	if err != nil {
		t.Fatalf("replication connection: %v", err)
	}
	if _, err := rc.Exec(ctx, "IDENTIFY_SYSTEM").ReadAll(); err != nil {
		t.Fatalf("IDENTIFY_SYSTEM: %v", err)
	}
	rc.Close(ctx)

	bad := *pg
	bad.Password = "wrong"
	if c, err := pgx.Connect(ctx, bad.ConnString(db)); err == nil {
		c.Close(ctx)
		t.Fatal("connecting with a wrong password succeeded")
	}
}

// TestPostgresStopStart proves an owned server keeps its data and port
// across Stop/Start and Kill/Start and that clients reconnect (P6).
func TestPostgresStopStart(t *testing.T) {
	s := testenv.NewPostgres(t, testenv.PostgresOptions{TimeZone: "Asia/Tokyo"})
	pg := s.Postgres()
	pg.Exec(t, "", `CREATE TABLE "t" ("id" int PRIMARY KEY)`, `INSERT INTO "t" VALUES (1)`)
	ctx := context.Background()
	pool := pg.Pool(t, "")
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := pool.Ping(ctx); err == nil {
		t.Fatal("stopped server still answers")
	}
	if err := s.Stop(); !errors.Is(err, testenv.ErrNotRunning) {
		t.Fatalf("second Stop: %v, want ErrNotRunning", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pg.Exec(t, "", `INSERT INTO "t" VALUES (2)`)
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	var tz string
	if err := pool.QueryRow(ctx, `SELECT count(*), current_setting('TimeZone') FROM "t"`).Scan(&n, &tz); err != nil {
		t.Fatal(err)
	}
	if n != 2 || tz != "Asia/Tokyo" {
		t.Fatalf("after restarts: %d rows, TimeZone %s; want 2, Asia/Tokyo", n, tz)
	}
}

// TestKafka proves the shared broker works with both client libraries the
// project uses: a kafka-go Writer produces to an auto-created topic with 4
// partitions, and a kafka-go partition Reader and franz-go read it (K3).
func TestKafka(t *testing.T) {
	k := testenv.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := &kafka.Writer{
		Addr:                   kafka.TCP(k.Brokers...),
		Topic:                  "testenv.orders",
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		AllowAutoTopicCreation: true,
		BatchTimeout:           10 * time.Millisecond,
	}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("k1"), Value: []byte("v1")}); err != nil {
		t.Fatalf("kafka-go produce: %v", err)
	}
	recs := k.Records(t, "testenv.orders", 1)
	if len(recs) != 1 || string(recs[0].Key) != "k1" || string(recs[0].Value) != "v1" {
		t.Fatalf("franz-go read %v", recs)
	}

	conn, err := kafka.DialContext(ctx, "tcp", k.Brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions("testenv.orders")
	conn.Close()
	if err != nil || len(parts) != 4 {
		t.Fatalf("partitions of an auto-created topic: %d, %v; want 4", len(parts), err)
	}

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: k.Brokers, Topic: "testenv.orders", Partition: int(recs[0].Partition), MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(ctx)
	if err != nil || string(m.Key) != "k1" || string(m.Value) != "v1" {
		t.Fatalf("kafka-go partition reader: %q=%q, %v", m.Key, m.Value, err)
	}
}

// TestKafkaSCRAMTLS proves an owned broker with TLS and SASL/SCRAM accepts
// kafka-go with the right credentials and refuses wrong ones (K3).
func TestKafkaSCRAMTLS(t *testing.T) {
	k := testenv.NewKafka(t, testenv.KafkaOptions{SASLMechanism: "SCRAM-SHA-512", TLS: true, Partitions: 2}).Kafka()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	write := func(pass string) error {
		mech, err := scram.Mechanism(scram.SHA512, k.User, pass)
		if err != nil {
			t.Fatal(err)
		}
		w := &kafka.Writer{
			Addr:                   kafka.TCP(k.Brokers...),
			Topic:                  "secure",
			AllowAutoTopicCreation: true,
			BatchTimeout:           10 * time.Millisecond,
			MaxAttempts:            1,
			Transport:              &kafka.Transport{SASL: mech, TLS: k.TLSConfig},
		}
		defer w.Close()
		return w.WriteMessages(ctx, kafka.Message{Value: []byte("x")})
	}
	if err := write("wrong"); err == nil {
		t.Fatal("producing with a wrong password succeeded")
	}
	if err := write(k.Password); err != nil {
		t.Fatalf("kafka-go over TLS with SCRAM-SHA-512: %v", err)
	}
	if recs := k.Records(t, "secure", 1); string(recs[0].Value) != "x" {
		t.Fatalf("read %q", recs[0].Value)
	}
}

// TestMissingBinary proves a missing PostgreSQL fails with the apt-get
// command to run (issue 2 item 6: never a silent skip).
func TestMissingBinary(t *testing.T) {
	_, err := testenv.StartPostgres(context.Background(), testenv.PostgresOptions{BinDir: t.TempDir()})
	if !errors.Is(err, testenv.ErrMissingBinary) {
		t.Fatalf("StartPostgres with an empty BinDir: %v, want ErrMissingBinary", err)
	}
	if !strings.Contains(err.Error(), "apt-get install -y mariadb-server postgresql") {
		t.Fatalf("error does not name the install command: %v", err)
	}
}

// TestCredentialsNotInErrors proves helper errors never carry the
// password (N2): a failing statement is reported without the DSN.
func TestCredentialsNotInErrors(t *testing.T) {
	my := testenv.MariaDB(t)
	ft := &fakeT{TB: t}
	func() {
		defer func() { recover() }()
		my.Exec(ft, "", "SELEKT 1")
	}()
	if ft.msg == "" || strings.Contains(ft.msg, my.Password) {
		t.Fatalf("Exec failure message %q is empty or contains the password", ft.msg)
	}
}

// fakeT records Fatal messages instead of failing the real test.
type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic("fatal")
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}
