// Package registry is a small client for a Confluent-compatible Schema
// Registry (the REST API of Confluent Schema Registry, Apicurio's ccompat
// API, Redpanda's registry): register a schema under a subject, fetch a
// schema by id, check that the registry answers.
//
// Ids are cached per (subject, schema text) and schemas per id, so a sink
// asks the registry once per table version. Errors carry the HTTP status, the
// registry's error_code and message, and the subject; an incompatible schema
// (HTTP 409, error_code 409) matches ErrIncompatible. Basic-auth credentials
// are sent in the Authorization header and never appear in errors.
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sentinel errors callers branch on (with errors.Is).
var (
	// ErrIncompatible: the registry refused a schema that breaks the
	// subject's compatibility rule (HTTP 409).
	ErrIncompatible = errors.New("schema incompatible with an earlier version")
	// ErrInvalidSchema: the registry could not parse the schema (HTTP 422).
	ErrInvalidSchema = errors.New("invalid schema")
	// ErrNotFound: the subject, version or schema id does not exist (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the credentials were refused (HTTP 401 or 403).
	ErrUnauthorized = errors.New("unauthorized")
)

// Error is a failed registry call.
type Error struct {
	// Op says what was attempted, e.g. "register schema".
	Op string
	// Subject is the subject concerned, if any.
	Subject string
	// Status is the HTTP status; Code is the registry's error_code.
	Status, Code int
	// Message is the registry's message (the reason).
	Message string
}

// Error renders the failure with subject and reason.
func (e *Error) Error() string {
	s := "schema registry: " + e.Op
	if e.Subject != "" {
		s += " for subject " + strconv.Quote(e.Subject)
	}
	s += fmt.Sprintf(": HTTP %d", e.Status)
	if e.Code != 0 {
		s += fmt.Sprintf(" (error_code %d)", e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	switch {
	case e.Status == http.StatusConflict:
		s += " (remedy: make the change compatible — e.g. add the column as nullable — or relax the subject's compatibility level with PUT /config/{subject})"
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		s += " (remedy: check the registry username and password)"
	}
	return s
}

// Unwrap maps the status to a sentinel error.
func (e *Error) Unwrap() error {
	switch e.Status {
	case http.StatusConflict:
		return ErrIncompatible
	case http.StatusUnprocessableEntity:
		return ErrInvalidSchema
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	}
	return nil
}

// Config configures a Client.
type Config struct {
	// URL is the registry's base URL. Required.
	URL string
	// Username and Password give basic authentication when Username is set.
	Username, Password string
	// HTTPClient is used for requests; nil means a client with a 30s timeout.
	HTTPClient *http.Client
}

// Client talks to one registry. It is safe for concurrent use.
type Client struct {
	base       string
	user, pass string
	hc         *http.Client

	mu    sync.Mutex
	ids   map[subjectSchema]int
	byID  map[int]string
	flock sync.Mutex // serializes registrations (they are rare)
}

type subjectSchema struct{ subject, schema string }

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("schema registry: URL %q: want http(s)://host[:port][/path]", cfg.URL)
	}
	if u.User != nil {
		return nil, errors.New("schema registry: put credentials in Username/Password, not in the URL")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{
		base: strings.TrimRight(cfg.URL, "/"), user: cfg.Username, pass: cfg.Password, hc: hc,
		ids: map[subjectSchema]int{}, byID: map[int]string{},
	}, nil
}

// Register registers an Avro schema under subject (a new version when the
// text is new to the subject) and returns its global id. Results are cached.
func (c *Client) Register(ctx context.Context, subject, schema string) (int, error) {
	k := subjectSchema{subject, schema}
	c.mu.Lock()
	id, ok := c.ids[k]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	c.flock.Lock()
	defer c.flock.Unlock()
	c.mu.Lock()
	id, ok = c.ids[k]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	body, _ := json.Marshal(map[string]string{"schema": schema, "schemaType": "AVRO"})
	var out struct {
		ID int `json:"id"`
	}
	if err := c.do(ctx, "register schema", subject, http.MethodPost, "/subjects/"+url.PathEscape(subject)+"/versions", body, &out); err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.ids[k] = out.ID
	c.byID[out.ID] = schema
	c.mu.Unlock()
	return out.ID, nil
}

// SchemaByID returns the schema text registered with id.
func (c *Client) SchemaByID(ctx context.Context, id int) (string, error) {
	c.mu.Lock()
	s, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	var out struct {
		Schema string `json:"schema"`
	}
	if err := c.do(ctx, "get schema id "+strconv.Itoa(id), "", http.MethodGet, "/schemas/ids/"+strconv.Itoa(id), nil, &out); err != nil {
		return "", err
	}
	c.mu.Lock()
	c.byID[id] = out.Schema
	c.mu.Unlock()
	return out.Schema, nil
}

// Compatible asks whether schema could be registered under subject as a
// new version (POST /compatibility/subjects/{subject}/versions/latest),
// without registering it. A subject that does not exist yet accepts any
// schema. When incompatible, reasons holds the registry's messages (if it
// gives them).
func (c *Client) Compatible(ctx context.Context, subject, schema string) (ok bool, reasons []string, err error) {
	body, _ := json.Marshal(map[string]string{"schema": schema, "schemaType": "AVRO"})
	var out struct {
		IsCompatible bool     `json:"is_compatible"`
		Messages     []string `json:"messages"`
	}
	err = c.do(ctx, "check compatibility", subject, http.MethodPost, "/compatibility/subjects/"+url.PathEscape(subject)+"/versions/latest?verbose=true", body, &out)
	if errors.Is(err, ErrNotFound) {
		return true, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	return out.IsCompatible, out.Messages, nil
}

// Versions lists the versions registered under subject.
func (c *Client) Versions(ctx context.Context, subject string) ([]int, error) {
	var out []int
	err := c.do(ctx, "list versions", subject, http.MethodGet, "/subjects/"+url.PathEscape(subject)+"/versions", nil, &out)
	return out, err
}

// Subjects lists the registered subjects; Prechecks use it to prove that the
// registry answers and accepts the credentials.
func (c *Client) Subjects(ctx context.Context) ([]string, error) {
	var out []string
	err := c.do(ctx, "list subjects", "", http.MethodGet, "/subjects", nil, &out)
	return out, err
}

// SetCompatibility sets subject's compatibility level ("BACKWARD", "NONE", ...).
func (c *Client) SetCompatibility(ctx context.Context, subject, level string) error {
	body, _ := json.Marshal(map[string]string{"compatibility": level})
	return c.do(ctx, "set compatibility", subject, http.MethodPut, "/config/"+url.PathEscape(subject), body, nil)
}

func (c *Client) do(ctx context.Context, op, subject, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	what := op
	if subject != "" {
		what += " (subject " + strconv.Quote(subject) + ")"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("schema registry: %s: %w", what, err)
	}
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json, application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// url.Error holds the URL only; credentials are never in it.
		return fmt.Errorf("schema registry: %s: %w", what, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("schema registry: %s: reading the response: %w", what, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Op: op, Subject: subject, Status: resp.StatusCode}
		var eb struct {
			Code    int    `json:"error_code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &eb) == nil {
			e.Code, e.Message = eb.Code, eb.Message
		} else {
			e.Message = strings.TrimSpace(string(data[:min(len(data), 300)]))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("schema registry: %s: decoding the response: %w", what, err)
	}
	return nil
}
