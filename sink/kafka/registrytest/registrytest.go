// Package registrytest is a TEST DOUBLE of a Confluent Schema Registry: a
// small in-process HTTP server (httptest) that follows the documented
// Confluent REST contract for the calls Sluice makes, so sink tests and
// examples run without a real registry. It is not a registry to deploy.
//
// Implemented (Confluent Schema Registry API reference):
//
//	POST /subjects/{subject}/versions  {"schema": "..."} → {"id": N}
//	     same schema again → same id; incompatible → 409 {"error_code":409,...};
//	     unparsable → 422 {"error_code":42201,...}
//	GET  /schemas/ids/{id}             → {"schema": "..."}; unknown → 404 error_code 40403
//	GET  /subjects                     → ["subject", ...]
//	GET  /subjects/{subject}/versions  → [1, 2, ...]; unknown → 404 error_code 40401
//	GET  /subjects/{subject}/versions/{version|latest} → {"subject","version","id","schema"}
//	PUT  /config/{subject}, PUT /config {"compatibility": "BACKWARD"|"NONE"|...}
//	GET  /config[/{subject}]           → {"compatibilityLevel": "..."}
//	POST /compatibility/subjects/{subject}/versions/latest {"schema": "..."}
//	     → {"is_compatible": bool, "messages": [...]}; unknown subject → 404 error_code 40401
//
// Compatibility checks use hamba/avro's schema compatibility rules: BACKWARD
// (the default, as in Confluent) checks that the new schema can read data
// written with the latest version; FORWARD the reverse; FULL both; the
// *_TRANSITIVE levels check every earlier version; NONE checks nothing.
// Optional basic authentication answers 401 with error_code 40101.
package registrytest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hamba/avro/v2"
)

// Registry is the test double. Its zero value is not usable; call New.
type Registry struct {
	srv *httptest.Server

	mu       sync.Mutex
	user     string
	pass     string
	schemas  []string          // id-1 → canonical schema text as registered
	ids      map[string]int    // canonical form → id
	subjects map[string][]int  // subject → ids per version (index = version-1)
	compat   map[string]string // subject → level; "" key = global
	requests map[string]int    // "METHOD path-pattern" → count, for tests
}

// New starts a registry double; it is closed by Close.
func New() *Registry {
	r := &Registry{ids: map[string]int{}, subjects: map[string][]int{}, compat: map[string]string{"": "BACKWARD"}, requests: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// NewTLS starts a registry double serving HTTPS with a self-signed
// certificate; TLSConfig returns a client configuration trusting it.
func NewTLS() *Registry {
	r := &Registry{ids: map[string]int{}, subjects: map[string][]int{}, compat: map[string]string{"": "BACKWARD"}, requests: map[string]int{}}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	return r
}

// TLSConfig returns a client TLS configuration trusting the server's
// certificate (nil for a plain HTTP double).
func (r *Registry) TLSConfig() *tls.Config {
	if r.srv.TLS == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(r.srv.Certificate())
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// NewWithAuth starts a registry double that requires HTTP basic auth.
func NewWithAuth(user, pass string) *Registry {
	r := New()
	r.user, r.pass = user, pass
	return r
}

// URL is the base URL to give clients.
func (r *Registry) URL() string { return r.srv.URL }

// Close stops the server.
func (r *Registry) Close() { r.srv.Close() }

// Versions returns the number of versions registered under subject.
func (r *Registry) Versions(subject string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.subjects[subject])
}

// Subjects returns the registered subjects, sorted.
func (r *Registry) Subjects() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.subjects))
	for s := range r.subjects {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Requests returns how many requests of a kind were served, keyed like
// "POST /subjects/{subject}/versions".
func (r *Registry) Requests(kind string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[kind]
}

type apiError struct {
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, apiError{code, msg})
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	if r.user != "" {
		u, p, ok := req.BasicAuth()
		if !ok || u != r.user || p != r.pass {
			fail(w, http.StatusUnauthorized, 40101, "Unauthorized")
			return
		}
	}
	parts := strings.Split(strings.Trim(req.URL.EscapedPath(), "/"), "/")
	for i := range parts {
		parts[i], _ = urlUnescape(parts[i])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case len(parts) == 3 && parts[0] == "subjects" && parts[2] == "versions" && req.Method == http.MethodPost:
		r.requests["POST /subjects/{subject}/versions"]++
		r.register(w, req, parts[1])
	case len(parts) == 3 && parts[0] == "subjects" && parts[2] == "versions" && req.Method == http.MethodGet:
		r.requests["GET /subjects/{subject}/versions"]++
		ids, ok := r.subjects[parts[1]]
		if !ok {
			fail(w, http.StatusNotFound, 40401, fmt.Sprintf("Subject '%s' not found.", parts[1]))
			return
		}
		vs := make([]int, len(ids))
		for i := range ids {
			vs[i] = i + 1
		}
		writeJSON(w, http.StatusOK, vs)
	case len(parts) == 4 && parts[0] == "subjects" && parts[2] == "versions" && req.Method == http.MethodGet:
		r.requests["GET /subjects/{subject}/versions/{version}"]++
		ids, ok := r.subjects[parts[1]]
		if !ok {
			fail(w, http.StatusNotFound, 40401, fmt.Sprintf("Subject '%s' not found.", parts[1]))
			return
		}
		v := len(ids)
		if parts[3] != "latest" {
			n, err := strconv.Atoi(parts[3])
			if err != nil || n < 1 {
				fail(w, http.StatusUnprocessableEntity, 42202, "The specified version is not a valid version id.")
				return
			}
			v = n
		}
		if v > len(ids) {
			fail(w, http.StatusNotFound, 40402, "Version "+parts[3]+" not found.")
			return
		}
		id := ids[v-1]
		writeJSON(w, http.StatusOK, map[string]any{"subject": parts[1], "version": v, "id": id, "schema": r.schemas[id-1]})
	case len(parts) == 5 && parts[0] == "compatibility" && parts[1] == "subjects" && parts[3] == "versions" && req.Method == http.MethodPost:
		r.requests["POST /compatibility/subjects/{subject}/versions/{version}"]++
		ids, ok := r.subjects[parts[2]]
		if !ok {
			fail(w, http.StatusNotFound, 40401, fmt.Sprintf("Subject '%s' not found.", parts[2]))
			return
		}
		var body struct {
			Schema string `json:"schema"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
			fail(w, http.StatusUnprocessableEntity, 42201, "Invalid schema: "+err.Error())
			return
		}
		sch, err := parse(body.Schema)
		if err != nil {
			fail(w, http.StatusUnprocessableEntity, 42201, "Invalid schema "+err.Error())
			return
		}
		reasons, err := r.check(parts[2], ids, sch)
		if err != nil {
			fail(w, http.StatusInternalServerError, 50001, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"is_compatible": len(reasons) == 0, "messages": reasons})
	case len(parts) == 1 && parts[0] == "subjects" && req.Method == http.MethodGet:
		r.requests["GET /subjects"]++
		out := []string{}
		for s := range r.subjects {
			out = append(out, s)
		}
		sort.Strings(out)
		writeJSON(w, http.StatusOK, out)
	case len(parts) == 3 && parts[0] == "schemas" && parts[1] == "ids" && req.Method == http.MethodGet:
		r.requests["GET /schemas/ids/{id}"]++
		id, err := strconv.Atoi(parts[2])
		if err != nil || id < 1 || id > len(r.schemas) {
			fail(w, http.StatusNotFound, 40403, "Schema "+parts[2]+" not found")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"schema": r.schemas[id-1]})
	case len(parts) <= 2 && parts[0] == "config" && req.Method == http.MethodPut:
		var body struct {
			Compatibility string `json:"compatibility"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
			fail(w, http.StatusUnprocessableEntity, 42203, "Invalid compatibility level")
			return
		}
		lvl := strings.ToUpper(body.Compatibility)
		switch lvl {
		case "NONE", "BACKWARD", "FORWARD", "FULL", "BACKWARD_TRANSITIVE", "FORWARD_TRANSITIVE", "FULL_TRANSITIVE":
		default:
			fail(w, http.StatusUnprocessableEntity, 42203, "Invalid compatibility level")
			return
		}
		subj := ""
		if len(parts) == 2 {
			subj = parts[1]
		}
		r.compat[subj] = lvl
		writeJSON(w, http.StatusOK, map[string]string{"compatibility": lvl})
	case len(parts) <= 2 && parts[0] == "config" && req.Method == http.MethodGet:
		subj := ""
		if len(parts) == 2 {
			subj = parts[1]
		}
		lvl, ok := r.compat[subj]
		if !ok {
			lvl = r.compat[""]
		}
		writeJSON(w, http.StatusOK, map[string]string{"compatibilityLevel": lvl})
	default:
		fail(w, http.StatusNotFound, 404, "HTTP 404 Not Found")
	}
}

func urlUnescape(s string) (string, error) {
	// PathUnescape is right for path segments ('+' stays '+').
	return url.PathUnescape(s)
}

func (r *Registry) register(w http.ResponseWriter, req *http.Request, subject string) {
	data, err := io.ReadAll(req.Body)
	if err != nil {
		fail(w, http.StatusBadRequest, 400, err.Error())
		return
	}
	var body struct {
		Schema     string `json:"schema"`
		SchemaType string `json:"schemaType"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		fail(w, http.StatusUnprocessableEntity, 42201, "Invalid schema: "+err.Error())
		return
	}
	if body.SchemaType != "" && body.SchemaType != "AVRO" {
		fail(w, http.StatusUnprocessableEntity, 42201, "Invalid schema: only AVRO is supported by this test double")
		return
	}
	sch, err := parse(body.Schema)
	if err != nil {
		fail(w, http.StatusUnprocessableEntity, 42201, "Invalid schema "+err.Error())
		return
	}
	canon := sch.String()
	ids := r.subjects[subject]
	if id, ok := r.ids[canon]; ok {
		for _, have := range ids {
			if have == id {
				writeJSON(w, http.StatusOK, map[string]int{"id": id})
				return
			}
		}
	}
	reasons, err := r.check(subject, ids, sch)
	if err != nil {
		fail(w, http.StatusInternalServerError, 50001, err.Error())
		return
	}
	if len(reasons) > 0 {
		lvl, ok := r.compat[subject]
		if !ok {
			lvl = r.compat[""]
		}
		fail(w, http.StatusConflict, 409, "Schema being registered is incompatible with an earlier schema for subject \""+subject+"\" ("+lvl+"): "+strings.Join(reasons, "; "))
		return
	}
	id, ok := r.ids[canon]
	if !ok {
		r.schemas = append(r.schemas, body.Schema)
		id = len(r.schemas)
		r.ids[canon] = id
	}
	r.subjects[subject] = append(ids, id)
	writeJSON(w, http.StatusOK, map[string]int{"id": id})
}

// check applies subject's compatibility level to sch against the versions
// ids and returns the reasons it is incompatible (none: compatible).
func (r *Registry) check(subject string, ids []int, sch avro.Schema) ([]string, error) {
	lvl, ok := r.compat[subject]
	if !ok {
		lvl = r.compat[""]
	}
	if lvl == "NONE" {
		return nil, nil
	}
	check := ids
	if !strings.HasSuffix(lvl, "_TRANSITIVE") && len(ids) > 0 {
		check = ids[len(ids)-1:]
	}
	var reasons []string
	for _, old := range check {
		prev, err := parse(r.schemas[old-1])
		if err != nil {
			return nil, fmt.Errorf("stored schema unparsable: %w", err)
		}
		c := avro.NewSchemaCompatibility()
		v := strconv.Itoa(indexOf(ids, old) + 1)
		if strings.HasPrefix(lvl, "BACKWARD") || strings.HasPrefix(lvl, "FULL") {
			if err := c.Compatible(sch, prev); err != nil {
				reasons = append(reasons, "reader (new schema) cannot read data written with version "+v+": "+err.Error())
			}
		}
		if strings.HasPrefix(lvl, "FORWARD") || strings.HasPrefix(lvl, "FULL") {
			if err := c.Compatible(prev, sch); err != nil {
				reasons = append(reasons, "version "+v+" cannot read data written with the new schema: "+err.Error())
			}
		}
	}
	return reasons, nil
}

func indexOf(ids []int, id int) int {
	for i, v := range ids {
		if v == id {
			return i
		}
	}
	return -1
}

// parse parses with a private cache, so versions of one record name do not
// clash in hamba/avro's global cache.
func parse(s string) (avro.Schema, error) {
	return avro.ParseWithCache(s, "", &avro.SchemaCache{})
}
