// Package testenv starts private, throwaway database servers for tests,
// examples and benchmarks: a MariaDB 10.11 and a PostgreSQL 15 from the
// Debian packages, in a temporary directory on free loopback ports, and an
// in-process Kafka-protocol broker (kfake). It never touches the machine's
// own services on 3306/5432.
//
// # Shared servers
//
// Each test package gets at most one server of each kind, started lazily
// on first use and removed after its tests:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
//
//	func TestX(t *testing.T) {
//		my := testenv.MariaDB(t)        // *MySQL: Addr, User, Password, DSN, DB, Exec
//		db := my.CreateDatabase(t)      // fresh database, dropped at cleanup
//		my.Exec(t, db, "CREATE TABLE `t` (`id` INT PRIMARY KEY)")
//	}
//
//	pg := testenv.Postgres(t)           // *PostgresConn: User, Password, ConnString, Pool, Exec
//	k := testenv.Kafka(t)               // *KafkaConn: Brokers
//
// Go does not allow a type and a function of the same name, so the
// connection types are MySQL, PostgresConn and KafkaConn while the
// functions returning the shared servers are MariaDB, Postgres and Kafka.
//
// Tests share the package's servers, so each test works in its own
// database (CreateDatabase) and names its replication slots, publications
// and topics uniquely.
//
// MariaDB runs with --log-bin, binlog_format=ROW, binlog_row_image=FULL,
// gtid_strict_mode=1, log_slave_updates, server_id=1 and utf8mb4 as the
// server character set. MySQL.User/Password are the password-authenticated
// MariaDBUser account ("sluice", ALL PRIVILEGES ON *.*, random password);
// DB, Exec and CreateDatabase use root (no password, TCP from 127.0.0.1).
//
// PostgreSQL runs with wal_level=logical, max_replication_slots=20,
// max_wal_senders=20, fsync off, UTF8 and the C locale, as the postgres OS
// user when the tests run as root. PostgresConn.User/Password are the
// SCRAM-authenticated superuser PostgresUser ("sluice", random password);
// CreateDatabase's cleanup also drops the database's replication slots.
//
// The Kafka broker is an in-process kfake cluster: one broker, topics
// created on first use with 4 partitions. It works with kafka-go (set
// Writer.AllowAutoTopicCreation) and franz-go; KafkaConn.Client and
// KafkaConn.Records are franz-go helpers for reading what a sink wrote.
// NewKafka(t, KafkaOptions{SASLMechanism: "SCRAM-SHA-512", TLS: true})
// gives a broker with SASL and TLS (KafkaConn.TLSConfig trusts it).
//
// # Owned servers
//
// Fault tests that stop, kill or restart a server start their own with
// NewMariaDB/NewPostgres(t, opts) (closed at the test's end) or
// StartMariaDB/StartPostgres(ctx, opts) (closed by the caller); demos and
// benchmarks use the Start functions. Stop, Kill and Start keep the data
// directory and port, so a client sees an outage and then the same server
// again. Options set the server id, time zone, durability and extra
// command-line arguments (e.g. a wrong binlog_format for precheck tests).
//
// # Missing binaries
//
// When a server binary is missing the test fails (it never skips, with or
// without CI=true) with the command that installs it, InstallCommand;
// `make deps` runs it as root.
//
// # Cleanup
//
// Servers receive a parent-death signal, so they never outlive the test
// binary; temporary directories of crashed runs are removed by the next
// run. With SLUICE_KEEP_SERVERS=1 a failed run keeps its servers' data
// directories and logs and prints where they are.
package testenv
