package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sluicecdc/sluice/sink/kafka/registry"
	"github.com/sluicecdc/sluice/sink/kafka/registrytest"
)

const v1 = `{"type":"record","name":"R","namespace":"t","fields":[{"name":"id","type":"long"}]}`
const v2 = `{"type":"record","name":"R","namespace":"t","fields":[{"name":"id","type":"long"},{"name":"x","type":["null","string"],"default":null}]}`
const bad = `{"type":"record","name":"R","namespace":"t","fields":[{"name":"id","type":"string"}]}`

// SPEC K3: register under a subject (cached), fetch by id, a new version on
// change, incompatibility (409) as ErrIncompatible naming subject and reason.
func TestClientAgainstDouble(t *testing.T) {
	r := registrytest.New()
	defer r.Close()
	ctx := context.Background()
	c, err := registry.New(registry.Config{URL: r.URL()})
	if err != nil {
		t.Fatal(err)
	}
	id1, err := c.Register(ctx, "t-value", v1)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Register(ctx, "t-value", v1); again != id1 || r.Requests("POST /subjects/{subject}/versions") != 1 {
		t.Fatalf("second Register: id %d, %d POSTs; want cached id %d and 1 POST", again, r.Requests("POST /subjects/{subject}/versions"), id1)
	}
	id2, err := c.Register(ctx, "t-value", v2)
	if err != nil || id2 == id1 {
		t.Fatalf("v2: id %d err %v", id2, err)
	}
	if vs, _ := c.Versions(ctx, "t-value"); len(vs) != 2 {
		t.Fatalf("versions %v, want 2", vs)
	}
	fresh, _ := registry.New(registry.Config{URL: r.URL()})
	if s, err := fresh.SchemaByID(ctx, id2); err != nil || s != v2 {
		t.Fatalf("SchemaByID(%d) = %q, %v", id2, s, err)
	}
	_, err = c.Register(ctx, "t-value", bad)
	var re *registry.Error
	if !errors.Is(err, registry.ErrIncompatible) || !errors.As(err, &re) || re.Code != 409 || !strings.Contains(err.Error(), `"t-value"`) || !strings.Contains(err.Error(), "incompatible") {
		t.Fatalf("incompatible: %v", err)
	}
	if _, err := c.SchemaByID(ctx, 999); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := c.Register(ctx, "x", "{not json"); !errors.Is(err, registry.ErrInvalidSchema) {
		t.Fatalf("invalid schema: %v", err)
	}
}

// SPEC N2: basic-auth credentials are used and never appear in errors.
func TestBasicAuth(t *testing.T) {
	r := registrytest.NewWithAuth("u", "pw-123")
	defer r.Close()
	ctx := context.Background()
	ok, _ := registry.New(registry.Config{URL: r.URL(), Username: "u", Password: "pw-123"})
	if _, err := ok.Subjects(ctx); err != nil {
		t.Fatal(err)
	}
	wrong, _ := registry.New(registry.Config{URL: r.URL(), Username: "u", Password: "wrong-pw-456"})
	_, err := wrong.Subjects(ctx)
	if !errors.Is(err, registry.ErrUnauthorized) || strings.Contains(err.Error(), "wrong-pw-456") {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := registry.New(registry.Config{URL: "http://u:p@host:1"}); err == nil {
		t.Fatal("credentials in the URL were accepted")
	}
}
