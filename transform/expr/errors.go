package expr

import (
	"errors"
	"strconv"
)

// Sentinel errors; an *Error wraps exactly one of them, so callers can
// branch with errors.Is.
var (
	// ErrSyntax: the expression is not in the language.
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownColumn: the expression names a column the table lacks.
	ErrUnknownColumn = errors.New("unknown column")
	// ErrType: a literal or operator does not fit the column's type
	// (price > 'abc', LIKE on a number, an enum value that is not a member).
	ErrType = errors.New("type mismatch")
)

// Error is a problem found in a filter expression. Pos is the byte offset
// in the source where it was found: 0 <= Pos <= len(source), len(source)
// meaning "at the end of the input".
type Error struct {
	// Kind is ErrSyntax, ErrUnknownColumn or ErrType.
	Kind error
	// Pos is the byte offset of the offending token.
	Pos int
	// Column names the column concerned, when there is one.
	Column string
	// Msg describes the problem and, where possible, the remedy.
	Msg string
}

// Error renders "syntax error at offset 12: ...".
func (e *Error) Error() string {
	return e.Kind.Error() + " at offset " + strconv.Itoa(e.Pos) + ": " + e.Msg
}

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

func syntaxErr(pos int, msg string) *Error {
	return &Error{Kind: ErrSyntax, Pos: pos, Msg: msg}
}

func typeErr(pos int, col, msg string) *Error {
	return &Error{Kind: ErrType, Pos: pos, Column: col, Msg: msg}
}
