// Package workload provides the "shop" schema used by the end-to-end tests,
// the demo and the benchmarks: tables with varied MySQL types, a seed, and
// concurrent writers that insert, update (including primary-key changes)
// and delete in multi-statement transactions, plus a type-aware comparison
// of a MySQL/MariaDB source database with a PostgreSQL target schema.
package workload

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Schema is the shop DDL for MariaDB/MySQL, one statement per element.
var Schema = []string{
	`CREATE TABLE customers (
		id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
		email VARCHAR(200) NOT NULL,
		name VARCHAR(100) CHARACTER SET utf8mb4 NOT NULL,
		country CHAR(2) NULL,
		tier ENUM('free','pro','enterprise') NOT NULL DEFAULT 'free',
		created_at DATETIME(6) NOT NULL,
		updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE products (
		sku VARCHAR(32) NOT NULL PRIMARY KEY,
		title VARCHAR(200) NOT NULL,
		price DECIMAL(12,2) NOT NULL,
		stock INT NOT NULL,
		attrs JSON NULL,
		image BLOB NULL
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE orders (
		id BIGINT NOT NULL PRIMARY KEY,
		customer_id BIGINT UNSIGNED NOT NULL,
		status ENUM('new','paid','shipped','cancelled') NOT NULL,
		amount DECIMAL(12,2) NOT NULL,
		placed_on DATE NOT NULL,
		note TEXT NULL,
		is_gift TINYINT(1) NOT NULL DEFAULT 0
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE order_items (
		order_id BIGINT NOT NULL,
		line INT NOT NULL,
		sku VARCHAR(32) NOT NULL,
		qty SMALLINT UNSIGNED NOT NULL,
		price DECIMAL(12,2) NOT NULL,
		PRIMARY KEY (order_id, line)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
}

// Create creates database name with the shop tables, through db (any
// database selected; root privileges).
func Create(ctx context.Context, db *sql.DB, name string) error {
	conn, err := db.Conn(ctx) // USE applies to one connection
	if err != nil {
		return fmt.Errorf("workload: %w", err)
	}
	defer conn.Close()
	for _, q := range append([]string{"CREATE DATABASE `" + name + "`", "USE `" + name + "`"}, Schema...) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("workload: creating the shop: %w", err)
		}
	}
	return nil
}

// Tables lists the shop tables in creation order.
var Tables = []string{"customers", "products", "orders", "order_items"}

var names = []string{"Ada", "Grace", "Linus", "Zoë", "Björk", "José", "李雷", "Ærøskøbing", "O'Brien", "😀 Smile"}
var countries = []string{"DE", "FR", "US", "JP", "BR", ""}
var tiers = []string{"free", "pro", "enterprise"}
var statuses = []string{"new", "paid", "shipped"}

// Seed fills the shop tables of db with customers, products and orders
// (with two items each), in multi-row INSERTs.
func Seed(ctx context.Context, db *sql.DB, customers, products, orders int) error {
	r := rand.New(rand.NewPCG(1, 2))
	ins := func(head string, n int, row func(i int) (string, []any)) error {
		const chunk = 500
		for start := 0; start < n; start += chunk {
			end := min(start+chunk, n)
			var sb strings.Builder
			var args []any
			sb.WriteString(head)
			for i := start; i < end; i++ {
				ph, a := row(i)
				if i > start {
					sb.WriteByte(',')
				}
				sb.WriteString(ph)
				args = append(args, a...)
			}
			if _, err := db.ExecContext(ctx, sb.String(), args...); err != nil {
				return fmt.Errorf("workload: seeding: %w", err)
			}
		}
		return nil
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := ins("INSERT INTO customers (id,email,name,country,tier,created_at) VALUES ", customers, func(i int) (string, []any) {
		var country any = countries[r.IntN(len(countries))]
		if country == "" {
			country = nil
		}
		return "(?,?,?,?,?,?)", []any{uint64(i + 1), fmt.Sprintf("c%d@example.com", i+1), names[r.IntN(len(names))], country,
			tiers[r.IntN(3)], base.Add(time.Duration(r.Int64N(int64(300 * 24 * time.Hour)))).Format("2006-01-02 15:04:05.000000")}
	}); err != nil {
		return err
	}
	if err := ins("INSERT INTO products (sku,title,price,stock,attrs,image) VALUES ", products, func(i int) (string, []any) {
		var attrs, image any
		if i%3 != 0 {
			attrs = fmt.Sprintf(`{"color": "c%d", "size": %d, "tags": ["a", "b"]}`, i%7, i%5)
		}
		if i%4 == 0 {
			image = []byte{0, 1, 2, byte(i), 0xff}
		}
		return "(?,?,?,?,?,?)", []any{Sku(i), fmt.Sprintf("Product %d «%s»", i, names[i%len(names)]),
			fmt.Sprintf("%d.%02d", 1+r.IntN(999), r.IntN(100)), r.IntN(1000), attrs, image}
	}); err != nil {
		return err
	}
	if err := ins("INSERT INTO orders (id,customer_id,status,amount,placed_on,note,is_gift) VALUES ", orders, func(i int) (string, []any) {
		var note any
		if i%5 == 0 {
			note = "leave at the door; «fragile»"
		}
		return "(?,?,?,?,?,?,?)", []any{int64(i + 1), uint64(1 + r.IntN(max(customers, 1))), statuses[r.IntN(3)],
			fmt.Sprintf("%d.%02d", r.IntN(5000), r.IntN(100)), base.AddDate(0, 0, r.IntN(600)).Format("2006-01-02"), note, r.IntN(2)}
	}); err != nil {
		return err
	}
	return ins("INSERT INTO order_items (order_id,line,sku,qty,price) VALUES ", orders*2, func(i int) (string, []any) {
		return "(?,?,?,?,?)", []any{int64(i/2 + 1), i%2 + 1, Sku(r.IntN(max(products, 1))), 1 + r.IntN(5),
			fmt.Sprintf("%d.%02d", 1+r.IntN(999), r.IntN(100))}
	})
}

// Sku returns the product key for index i.
func Sku(i int) string { return fmt.Sprintf("SKU-%06d", i) }

// Writers runs concurrent writers against db until ctx ends or Stop.
type Writers struct {
	// Txns counts committed transactions; Errors counts failed ones
	// (deadlocks are expected under concurrency and retried by the next op).
	Txns, Errors atomic.Int64
	cancel       context.CancelFunc
	wg           sync.WaitGroup
	nextID       atomic.Int64
	errMu        sync.Mutex
	lastErr      error
}

// StartWriters starts n writer goroutines. Each runs random transactions:
// new orders with items, status and amount updates, customer renames,
// price changes, order deletions and primary-key changes (an order and its
// items move to a new id). rate > 0 limits each writer to rate
// transactions per second. firstID must exceed every order id in use.
func StartWriters(ctx context.Context, db *sql.DB, n int, rate float64, firstID int64, customers, products int) *Writers {
	ctx, cancel := context.WithCancel(ctx)
	w := &Writers{cancel: cancel}
	w.nextID.Store(firstID)
	for g := 0; g < n; g++ {
		w.wg.Add(1)
		go func(seed uint64) {
			defer w.wg.Done()
			r := rand.New(rand.NewPCG(seed, 99))
			var tick *time.Ticker
			if rate > 0 {
				tick = time.NewTicker(time.Duration(float64(time.Second) / rate))
				defer tick.Stop()
			}
			for ctx.Err() == nil {
				if tick != nil {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
					}
				}
				if err := w.one(ctx, db, r, customers, products); err != nil {
					if ctx.Err() != nil {
						return
					}
					w.Errors.Add(1)
					w.errMu.Lock()
					w.lastErr = err
					w.errMu.Unlock()
					continue
				}
				w.Txns.Add(1)
			}
		}(uint64(g + 1))
	}
	return w
}

// Stop stops the writers and waits for them.
func (w *Writers) Stop() {
	w.cancel()
	w.wg.Wait()
}

// LastError returns the last failed transaction's error, if any.
func (w *Writers) LastError() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.lastErr
}

func (w *Writers) one(ctx context.Context, db *sql.DB, r *rand.Rand, customers, products int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	// An existing order id, picked at random among recent ones.
	pick := func() int64 {
		hi := w.nextID.Load()
		return 1 + r.Int64N(hi)
	}
	switch op := r.IntN(100); {
	case op < 35: // new order with items
		id := w.nextID.Add(1)
		if err := exec("INSERT INTO orders (id,customer_id,status,amount,placed_on,note,is_gift) VALUES (?,?,?,?,?,?,?)",
			id, uint64(1+r.IntN(max(customers, 1))), "new", fmt.Sprintf("%d.%02d", r.IntN(5000), r.IntN(100)),
			time.Now().UTC().Format("2006-01-02"), nil, r.IntN(2)); err != nil {
			return err
		}
		for line := 1; line <= 1+r.IntN(3); line++ {
			if err := exec("INSERT INTO order_items (order_id,line,sku,qty,price) VALUES (?,?,?,?,?)",
				id, line, Sku(r.IntN(max(products, 1))), 1+r.IntN(5), fmt.Sprintf("%d.%02d", 1+r.IntN(999), r.IntN(100))); err != nil {
				return err
			}
		}
	case op < 60: // order status/amount update
		if err := exec("UPDATE orders SET status=?, amount=amount+1.01, note=? WHERE id=?",
			statuses[r.IntN(3)], fmt.Sprintf("updated %d ✓", r.IntN(1000)), pick()); err != nil {
			return err
		}
	case op < 70: // customer rename and tier change
		if err := exec("UPDATE customers SET name=?, tier=?, country=NULL WHERE id=?",
			names[r.IntN(len(names))], tiers[r.IntN(3)], uint64(1+r.IntN(max(customers, 1)))); err != nil {
			return err
		}
	case op < 80: // price and stock change, JSON rewrite
		if err := exec("UPDATE products SET price=price+0.01, stock=stock-1, attrs=? WHERE sku=?",
			fmt.Sprintf(`{"color": "x%d", "promo": true}`, r.IntN(9)), Sku(r.IntN(max(products, 1)))); err != nil {
			return err
		}
	case op < 90: // cancel: delete an order and its items
		id := pick()
		if err := exec("DELETE FROM order_items WHERE order_id=?", id); err != nil {
			return err
		}
		if err := exec("DELETE FROM orders WHERE id=?", id); err != nil {
			return err
		}
	default: // primary-key change: move an order and its items to a new id
		old, id := pick(), w.nextID.Add(1)
		if err := exec("UPDATE orders SET id=? WHERE id=?", id, old); err != nil {
			return err
		}
		if err := exec("UPDATE order_items SET order_id=? WHERE order_id=?", id, old); err != nil {
			return err
		}
	}
	return tx.Commit()
}
