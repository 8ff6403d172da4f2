package expr

import "strings"

// maxDepth bounds nesting (parentheses, NOT) so hostile input cannot
// exhaust the stack.
const maxDepth = 200

// node is a boolean expression.
type node interface{ position() int }

type (
	// logicNode is a AND b or a OR b.
	logicNode struct {
		or   bool
		l, r node
		pos  int
	}
	// notNode is NOT x.
	notNode struct {
		x   node
		pos int
	}
	// cmpNode is l op r.
	cmpNode struct {
		op   cmpOp
		l, r operand
		pos  int
	}
	// inNode is x [NOT] IN (list).
	inNode struct {
		x    operand
		list []operand
		not  bool
		pos  int
	}
	// betweenNode is x [NOT] BETWEEN lo AND hi.
	betweenNode struct {
		x, lo, hi operand
		not       bool
		pos       int
	}
	// likeNode is x [NOT] LIKE pat [ESCAPE esc].
	likeNode struct {
		x, pat operand
		esc    *operand // nil: the default escape '\'
		not    bool
		pos    int
	}
	// isNullNode is x IS [NOT] NULL.
	isNullNode struct {
		x   operand
		not bool
		pos int
	}
	// truthNode is an operand used as a condition: a bool column, TRUE, FALSE, NULL.
	truthNode struct {
		x operand
	}
)

func (n *logicNode) position() int   { return n.pos }
func (n *notNode) position() int     { return n.pos }
func (n *cmpNode) position() int     { return n.pos }
func (n *inNode) position() int      { return n.pos }
func (n *betweenNode) position() int { return n.pos }
func (n *likeNode) position() int    { return n.pos }
func (n *isNullNode) position() int  { return n.pos }
func (n *truthNode) position() int   { return n.x.pos }

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opEQ cmpOp = iota
	opNE
	opLT
	opLE
	opGT
	opGE
)

func parseOp(s string) cmpOp {
	switch s {
	case "=":
		return opEQ
	case "!=":
		return opNE
	case "<":
		return opLT
	case "<=":
		return opLE
	case ">":
		return opGT
	}
	return opGE
}

// flip returns the operator with its operands swapped (a < b ⇔ b > a).
func (o cmpOp) flip() cmpOp {
	switch o {
	case opLT:
		return opGT
	case opLE:
		return opGE
	case opGT:
		return opLT
	case opGE:
		return opLE
	}
	return o
}

// litKind classifies an operand.
type litKind uint8

const (
	oColumn    litKind = iota // a column reference; text is the name
	oNumber                   // numeric literal; text is the source text, sign included
	oString                   // string literal; text is the unescaped value
	oNull                     // NULL
	oBool                     // TRUE or FALSE; text is "TRUE" or "FALSE"
	oDate                     // DATE '...'
	oTime                     // TIME '...'
	oTimestamp                // TIMESTAMP '...' or DATETIME '...'
)

// operand is a column or a literal.
type operand struct {
	kind   litKind
	text   string
	pos    int
	quoted bool // a quoted column name: matched exactly
}

func (o operand) isLiteral() bool { return o.kind != oColumn }

// parser is a recursive-descent parser with one token of look-ahead.
type parser struct {
	lx    lexer
	tok   token
	depth int
}

// parse parses a complete expression.
func parse(src string) (node, error) {
	p := &parser{lx: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, syntaxErr(p.tok.pos, "empty expression")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, syntaxErr(p.tok.pos, "unexpected "+describe(p.tok)+" after a complete condition (missing AND/OR?)")
	}
	return n, nil
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) isKeyword(w string) bool { return p.tok.kind == tKeyword && p.tok.text == w }

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return "string literal"
	case tKeyword:
		return t.text
	case tIdent, tQIdent:
		return "column name " + quoteName(t.text)
	}
	return "'" + t.text + "'"
}

func quoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return syntaxErr(p.tok.pos, "expression nested too deeply")
	}
	return nil
}

func (p *parser) or() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &logicNode{or: true, l: l, r: r, pos: pos}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &logicNode{l: l, r: r, pos: pos}
	}
	return l, nil
}

func (p *parser) not() (node, error) {
	if p.isKeyword("NOT") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &notNode{x: x, pos: pos}, nil
	}
	return p.predicate()
}

func (p *parser) predicate() (node, error) {
	if p.tok.kind == tLParen {
		open := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, syntaxErr(p.tok.pos, "expected ')' to close the '(' at offset "+itoa(open)+", found "+describe(p.tok))
		}
		return n, p.advance()
	}
	x, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch {
	case p.tok.kind == tOp:
		op, pos := parseOp(p.tok.text), p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &cmpNode{op: op, l: x, r: r, pos: pos}, nil
	case p.isKeyword("IS"):
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		not := false
		if p.isKeyword("NOT") {
			not = true
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if !p.isKeyword("NULL") {
			return nil, syntaxErr(p.tok.pos, "expected NULL after IS, found "+describe(p.tok))
		}
		return &isNullNode{x: x, not: not, pos: pos}, p.advance()
	}
	not, notPos := false, p.tok.pos
	if p.isKeyword("NOT") {
		not = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	switch {
	case p.isKeyword("IN"):
		return p.in(x, not, notPos)
	case p.isKeyword("BETWEEN"):
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.isKeyword("AND") {
			return nil, syntaxErr(p.tok.pos, "expected AND in BETWEEN, found "+describe(p.tok))
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &betweenNode{x: x, lo: lo, hi: hi, not: not, pos: pos}, nil
	case p.isKeyword("LIKE"):
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		pat, err := p.operand()
		if err != nil {
			return nil, err
		}
		n := &likeNode{x: x, pat: pat, not: not, pos: pos}
		if p.isKeyword("ESCAPE") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			esc, err := p.operand()
			if err != nil {
				return nil, err
			}
			n.esc = &esc
		}
		return n, nil
	}
	if not {
		return nil, syntaxErr(p.tok.pos, "expected IN, BETWEEN or LIKE after NOT, found "+describe(p.tok))
	}
	// A lone operand is a condition: a bool column, TRUE, FALSE or NULL.
	switch x.kind {
	case oColumn, oBool, oNull:
		return &truthNode{x: x}, nil
	}
	return nil, syntaxErr(p.tok.pos, "expected a comparison, IN, BETWEEN, LIKE or IS after the literal, found "+describe(p.tok))
}

func (p *parser) in(x operand, not bool, pos int) (node, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tLParen {
		return nil, syntaxErr(p.tok.pos, "expected '(' after IN, found "+describe(p.tok))
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	n := &inNode{x: x, not: not, pos: pos}
	for {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		n.list = append(n.list, o)
		if p.tok.kind == tComma {
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		}
		if p.tok.kind != tRParen {
			return nil, syntaxErr(p.tok.pos, "expected ',' or ')' in the IN list, found "+describe(p.tok))
		}
		return n, p.advance()
	}
}

// operand parses a column name or a literal.
func (p *parser) operand() (operand, error) {
	t := p.tok
	switch t.kind {
	case tIdent:
		if err := p.advance(); err != nil {
			return operand{}, err
		}
		var k litKind
		switch strings.ToUpper(t.text) {
		case "DATE":
			k = oDate
		case "TIME":
			k = oTime
		case "TIMESTAMP", "DATETIME":
			k = oTimestamp
		}
		if k != oColumn && p.tok.kind == tString { // typed literal: DATE '2024-01-01'
			s := p.tok.text
			return operand{kind: k, text: s, pos: t.pos}, p.advance()
		}
		return operand{kind: oColumn, text: t.text, pos: t.pos}, nil
	case tQIdent:
		return operand{kind: oColumn, text: t.text, pos: t.pos, quoted: true}, p.advance()
	case tString:
		return operand{kind: oString, text: t.text, pos: t.pos}, p.advance()
	case tNumber:
		return operand{kind: oNumber, text: t.text, pos: t.pos}, p.advance()
	case tMinus, tPlus:
		if err := p.advance(); err != nil {
			return operand{}, err
		}
		if p.tok.kind != tNumber {
			return operand{}, syntaxErr(p.tok.pos, "expected a number after '"+t.text+"', found "+describe(p.tok))
		}
		text := p.tok.text
		if t.kind == tMinus {
			text = "-" + text
		}
		return operand{kind: oNumber, text: text, pos: t.pos}, p.advance()
	case tKeyword:
		switch t.text {
		case "NULL":
			return operand{kind: oNull, pos: t.pos}, p.advance()
		case "TRUE", "FALSE":
			return operand{kind: oBool, text: t.text, pos: t.pos}, p.advance()
		}
		return operand{}, syntaxErr(t.pos, "expected a column name or a literal, found "+t.text+" (quote a column named like a keyword: `"+strings.ToLower(t.text)+"`)")
	}
	return operand{}, syntaxErr(t.pos, "expected a column name or a literal, found "+describe(t))
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
