package expr

import (
	"fmt"
	"strconv"
	"strings"
)

// maxDepth bounds nesting (parentheses, NOT, lists) so a hostile
// expression cannot exhaust the stack.
const maxDepth = 100

// MaxLength is the longest expression Compile accepts, in bytes.
const MaxLength = 8192

// Expr is a compiled expression, safe for concurrent use.
type Expr struct {
	src  string
	root node
	refs Refs
}

// Refs says which namespaces an expression reads.
type Refs struct {
	Task, Worker, Workers, Bare bool
}

// String returns the expression's source.
func (e *Expr) String() string { return e.src }

// Refs reports which namespaces the expression reads.
func (e *Expr) Refs() Refs { return e.refs }

// Compile parses src. An empty (or all-space) expression is a *SyntaxError
// too: callers decide what "no expression" means.
func Compile(src string) (*Expr, error) {
	if len(src) > MaxLength {
		return nil, &SyntaxError{Pos: 1, Msg: fmt.Sprintf("expression longer than %d bytes", MaxLength)}
	}
	p := &parser{lex: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, &SyntaxError{Pos: 1, Msg: "empty expression"}
	}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected("AND, OR or the end of the expression")
	}
	e := &Expr{src: src, root: root}
	walkPaths(root, func(pa *path) {
		switch pa.ns {
		case nsTask:
			e.refs.Task = true
		case nsWorker:
			e.refs.Worker = true
		case nsWorkers:
			e.refs.Workers = true
		default:
			e.refs.Bare = true
		}
	})
	return e, nil
}

// MustCompile is Compile that panics on error, for constant expressions.
func MustCompile(src string) *Expr {
	e, err := Compile(src)
	if err != nil {
		panic("expr: " + src + ": " + err.Error())
	}
	return e
}

type parser struct {
	lex lexer
	tok token
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

// keyword reports whether the current token is the keyword kw.
func (p *parser) keyword(kw string) bool {
	return p.tok.kind == tIdent && strings.EqualFold(p.tok.text, kw)
}

func (p *parser) unexpected(want string) error {
	got := "the end of the expression"
	if p.tok.kind != tEOF {
		got = fmt.Sprintf("%q", p.tok.text)
		if p.tok.kind == tString {
			got = fmt.Sprintf("string %q", p.tok.text)
		}
	}
	return &SyntaxError{Pos: p.tok.pos, Msg: fmt.Sprintf("expected %s, found %s", want, got)}
}

func (p *parser) deeper(depth int) error {
	if depth >= maxDepth {
		return &SyntaxError{Pos: p.tok.pos, Msg: fmt.Sprintf("nested more than %d deep", maxDepth)}
	}
	return nil
}

func (p *parser) or(depth int) (node, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") || p.tok.kind == tOp && p.tok.text == "||" {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		left = &logical{and: false, left: left, right: right}
	}
	return left, nil
}

func (p *parser) and(depth int) (node, error) {
	left, err := p.not(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") || p.tok.kind == tOp && p.tok.text == "&&" {
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.not(depth)
		if err != nil {
			return nil, err
		}
		left = &logical{and: true, left: left, right: right}
	}
	return left, nil
}

func (p *parser) not(depth int) (node, error) {
	if p.keyword("not") || p.tok.kind == tOp && p.tok.text == "!" {
		if err := p.deeper(depth); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		inner, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return &negation{inner: inner}, nil
	}
	return p.primary(depth)
}

// primary is a parenthesised expression, a comparison, or a lone value
// (true when it is the boolean true).
func (p *parser) primary(depth int) (node, error) {
	if p.tok.kind == tLParen {
		if err := p.deeper(depth); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		inner, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.unexpected("')'")
		}
		return inner, p.advance()
	}
	left, err := p.operand(depth)
	if err != nil {
		return nil, err
	}
	op, opPos, err := p.operator()
	if err != nil {
		return nil, err
	}
	if op == "" {
		return &truth{v: left}, nil
	}
	right, err := p.operand(depth)
	if err != nil {
		return nil, err
	}
	return &comparison{op: op, pos: opPos, left: left, right: right}, nil
}

// operator consumes a comparison operator, returning "" when the current
// token is none.
func (p *parser) operator() (string, int, error) {
	pos := p.tok.pos
	switch {
	case p.tok.kind == tOp:
		op := p.tok.text
		switch op {
		case "=":
			op = "=="
		case "&&", "||":
			return "", 0, nil
		case "!":
			return "", 0, &SyntaxError{Pos: pos, Msg: "unexpected '!' (did you mean '!='?)"}
		}
		return op, pos, p.advance()
	case p.keyword("has"), p.keyword("in"), p.keyword("contains"):
		op := strings.ToUpper(p.tok.text)
		return op, pos, p.advance()
	case p.keyword("not"):
		if err := p.advance(); err != nil {
			return "", 0, err
		}
		if !p.keyword("in") {
			return "", 0, p.unexpected("IN after NOT")
		}
		return "NOT IN", pos, p.advance()
	}
	return "", 0, nil
}

// operand is a constant, a list or an attribute path.
func (p *parser) operand(depth int) (operand, error) {
	t := p.tok
	switch t.kind {
	case tString:
		return constant{v: t.text}, p.advance()
	case tNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("malformed number %q", t.text)}
		}
		return constant{v: f}, p.advance()
	case tLBrack:
		return p.list(depth)
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return constant{v: true}, p.advance()
		case "false":
			return constant{v: false}, p.advance()
		case "null":
			return constant{v: nil}, p.advance()
		case "and", "or", "not", "in", "has", "contains":
			return nil, p.unexpected("a value or an attribute")
		}
		return newPath(t.text), p.advance()
	}
	return nil, p.unexpected("a value or an attribute")
}

// list is [v, v, …] of constants.
func (p *parser) list(depth int) (operand, error) {
	if err := p.deeper(depth); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var items []any
	if p.tok.kind == tRBrack {
		return constant{v: items}, p.advance()
	}
	for {
		pos := p.tok.pos
		o, err := p.operand(depth + 1)
		if err != nil {
			return nil, err
		}
		c, ok := o.(constant)
		if !ok {
			return nil, &SyntaxError{Pos: pos, Msg: "a list holds constants only"}
		}
		items = append(items, c.v)
		switch p.tok.kind {
		case tComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
		case tRBrack:
			return constant{v: items}, p.advance()
		default:
			return nil, p.unexpected("',' or ']'")
		}
	}
}
