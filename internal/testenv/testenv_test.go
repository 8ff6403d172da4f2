package testenv_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

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
