// Package expr is TaskRouter's expression language: the conditions of
// workflow filters and targets and of task queues' target_workers.
//
//	language == 'es' AND (level >= 3 OR task.vip == true)
//	routing.skills HAS 'support'
//	task.language IN worker.languages
//	type NOT IN ['spam', 'test']
//	name CONTAINS 'smith'
//	1 == 1
//
// Operators: ==, = (the same), !=, <, <=, >, >=, HAS, IN, NOT IN,
// CONTAINS, AND (&&), OR (||), NOT and parentheses. Values: strings in
// single or double quotes, numbers, true, false, null, lists in brackets
// and dotted attribute paths. Keywords are case-insensitive; attribute
// names and string comparisons are case-sensitive.
//
// A bare path names an attribute of the expression's subject (the task
// in a workflow filter, the worker in a queue's target_workers); the
// prefixes task., worker. and workers. name the task, the worker and the
// target queue's worker statistics explicitly (see Env).
//
// Evaluation has no surprises: values of different types are never equal
// and never ordered (1 and '1' differ), a missing attribute equals
// nothing (so `x != 'a'` holds when x is missing, every other comparison
// with it fails), and an expression that parses always evaluates.
// Compile refuses a malformed expression with a *SyntaxError giving the
// 1-based position of the error.
package expr

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SyntaxError is a malformed expression.
type SyntaxError struct {
	Pos int    // 1-based character position of the error in the expression
	Msg string // what was wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("position %d: %s", e.Pos, e.Msg)
}

type tokKind int

const (
	tEOF tokKind = iota
	tString
	tNumber
	tIdent // a dotted path or a keyword (and, or, not, in, has, contains, true, false, null)
	tOp    // == = != < <= > >= && || !
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
)

type token struct {
	kind tokKind
	text string // the literal text; for strings, the unquoted value
	pos  int    // 1-based character position
}

// lexer splits an expression into tokens.
type lexer struct {
	src  string
	off  int // byte offset
	char int // characters consumed so far
}

func (l *lexer) next() (token, error) {
	for l.off < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.off:])
		if !unicode.IsSpace(r) {
			break
		}
		l.off += n
		l.char++
	}
	pos := l.char + 1
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: pos}, nil
	}
	c := l.src[l.off]
	switch {
	case c == '\'' || c == '"':
		return l.str(c, pos)
	case c >= '0' && c <= '9' || c == '-' || c == '.' && l.off+1 < len(l.src) && isDigit(l.src[l.off+1]):
		return l.number(pos)
	case c == '_' || isLetter(c):
		start := l.off
		for l.off < len(l.src) && (isLetter(l.src[l.off]) || isDigit(l.src[l.off]) || l.src[l.off] == '_' || l.src[l.off] == '.') {
			l.off++
			l.char++
		}
		text := l.src[start:l.off]
		if strings.HasSuffix(text, ".") || strings.Contains(text, "..") {
			return token{}, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("malformed attribute name %q", text)}
		}
		return token{kind: tIdent, text: text, pos: pos}, nil
	}
	two := ""
	if l.off+1 < len(l.src) {
		two = l.src[l.off : l.off+2]
	}
	switch two {
	case "==", "!=", "<=", ">=", "&&", "||":
		l.off += 2
		l.char += 2
		return token{kind: tOp, text: two, pos: pos}, nil
	}
	kinds := map[byte]tokKind{'(': tLParen, ')': tRParen, '[': tLBrack, ']': tRBrack, ',': tComma,
		'<': tOp, '>': tOp, '=': tOp, '!': tOp}
	if k, ok := kinds[c]; ok {
		l.off++
		l.char++
		return token{kind: k, text: string(c), pos: pos}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return token{}, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("unexpected character %q", r)}
}

// str reads a quoted string; a backslash escapes the next character.
func (l *lexer) str(quote byte, pos int) (token, error) {
	l.off++
	l.char++
	var b strings.Builder
	for l.off < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.off:])
		l.off += n
		l.char++
		switch {
		case r == rune(quote):
			return token{kind: tString, text: b.String(), pos: pos}, nil
		case r == '\\' && l.off < len(l.src):
			r2, n2 := utf8.DecodeRuneInString(l.src[l.off:])
			l.off += n2
			l.char++
			b.WriteRune(r2)
		default:
			b.WriteRune(r)
		}
	}
	return token{}, &SyntaxError{Pos: pos, Msg: "unterminated string"}
}

func (l *lexer) number(pos int) (token, error) {
	start := l.off
	if l.src[l.off] == '-' {
		l.off++
		l.char++
	}
	digits := 0
	dot := false
	for l.off < len(l.src) {
		c := l.src[l.off]
		if isDigit(c) {
			digits++
		} else if c == '.' && !dot {
			dot = true
		} else {
			break
		}
		l.off++
		l.char++
	}
	if digits == 0 {
		return token{}, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("malformed number %q", l.src[start:l.off])}
	}
	if l.off < len(l.src) && (isLetter(l.src[l.off]) || l.src[l.off] == '_') {
		return token{}, &SyntaxError{Pos: l.char + 1, Msg: "a number runs into a name"}
	}
	return token{kind: tNumber, text: l.src[start:l.off], pos: pos}, nil
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
