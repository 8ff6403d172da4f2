package sluice

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the outcome of one precheck item.
type Status uint8

// Precheck outcomes, from best to worst.
const (
	StatusOK   Status = iota // the condition holds
	StatusWarn               // the pipeline can run, but something deserves attention
	StatusFail               // the pipeline must not run until the remedy is applied
)

// String returns "ok", "warn" or "fail".
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusWarn:
		return "warn"
	default:
		return "fail"
	}
}

// Check is one item of a precheck report.
type Check struct {
	// Item names what was checked, including the object ("binlog_format",
	// "table shop.orders: primary key").
	Item   string
	Status Status
	// Cause says what was found when Status is not OK.
	Cause string
	// Remedy says what to do about it.
	Remedy string
}

// String renders the check on one line.
func (c Check) String() string {
	s := fmt.Sprintf("[%s] %s", c.Status, c.Item)
	if c.Cause != "" {
		s += ": " + c.Cause
	}
	if c.Remedy != "" {
		s += " (remedy: " + c.Remedy + ")"
	}
	return s
}

// Report is a structured precheck result.
type Report struct {
	Checks []Check
}

// OK reports whether no item failed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			return false
		}
	}
	return true
}

// Failed returns the failed items.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			out = append(out, c)
		}
	}
	return out
}

// Add appends checks to the report.
func (r *Report) Add(c ...Check) { r.Checks = append(r.Checks, c...) }

// String renders the report, one item a line.
func (r *Report) String() string {
	var b strings.Builder
	for _, c := range r.Checks {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// ErrPrecheck is wrapped by the error a pipeline returns when its precheck
// failed; errors.As with *PrecheckError gives the report.
var ErrPrecheck = errors.New("precheck failed")

// PrecheckError carries a failed report.
type PrecheckError struct{ Report *Report }

// Error lists the failed items.
func (e *PrecheckError) Error() string {
	var b strings.Builder
	b.WriteString("sluice: precheck failed:")
	for _, c := range e.Report.Failed() {
		b.WriteString("\n  ")
		b.WriteString(c.String())
	}
	return b.String()
}

// Unwrap returns ErrPrecheck.
func (e *PrecheckError) Unwrap() error { return ErrPrecheck }
