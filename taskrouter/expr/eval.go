package expr

import (
	"encoding/json"
	"strings"
)

// Env holds the attributes an expression reads. Attribute values are what
// encoding/json decodes into an any (map[string]any, []any, string,
// float64, bool, nil); json.Number and Go integer types are accepted too.
type Env struct {
	// Bare answers paths without a namespace prefix: the task's
	// attributes in a workflow filter, the worker's in target_workers.
	Bare map[string]any
	// Task, Worker and Workers answer task.x, worker.x and workers.x. A
	// nil map sends such paths to Bare, whole (so an attribute really
	// called "worker" still works where there is no worker).
	Task, Worker, Workers map[string]any
}

// Eval reports whether the expression holds in env.
func (e *Expr) Eval(env Env) bool { return e.root.eval(&env) }

type node interface{ eval(env *Env) bool }

type operand interface{ value(env *Env) any }

type namespace int

const (
	nsBare namespace = iota
	nsTask
	nsWorker
	nsWorkers
)

type constant struct{ v any }

func (c constant) value(*Env) any { return c.v }

// path is a dotted attribute reference.
type path struct {
	full  []string // every segment, for lookups in Bare
	ns    namespace
	inner []string // segments after the namespace prefix
}

func newPath(text string) *path {
	segs := strings.Split(text, ".")
	p := &path{full: segs}
	if len(segs) > 1 {
		switch segs[0] {
		case "task":
			p.ns = nsTask
		case "worker":
			p.ns = nsWorker
		case "workers":
			p.ns = nsWorkers
		}
		if p.ns != nsBare {
			p.inner = segs[1:]
		}
	}
	return p
}

func (p *path) value(env *Env) any {
	var m map[string]any
	switch p.ns {
	case nsTask:
		m = env.Task
	case nsWorker:
		m = env.Worker
	case nsWorkers:
		m = env.Workers
	}
	if m != nil {
		return lookup(m, p.inner)
	}
	return lookup(env.Bare, p.full)
}

func lookup(m map[string]any, segs []string) any {
	var cur any = m
	for _, s := range segs {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[s]
	}
	return normalize(cur)
}

// normalize makes numbers float64.
func normalize(v any) any {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return n.String()
		}
		return f
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case int32:
		return float64(n)
	case float32:
		return float64(n)
	case []string:
		out := make([]any, len(n))
		for i, s := range n {
			out[i] = s
		}
		return out
	}
	return v
}

type logical struct {
	and         bool
	left, right node
}

func (l *logical) eval(env *Env) bool {
	if l.and {
		return l.left.eval(env) && l.right.eval(env)
	}
	return l.left.eval(env) || l.right.eval(env)
}

type negation struct{ inner node }

func (n *negation) eval(env *Env) bool { return !n.inner.eval(env) }

// truth is a lone value: true only when it is the boolean true.
type truth struct{ v operand }

func (t *truth) eval(env *Env) bool {
	b, ok := t.v.value(env).(bool)
	return ok && b
}

type comparison struct {
	op          string
	pos         int
	left, right operand
}

func (c *comparison) eval(env *Env) bool {
	l, r := c.left.value(env), c.right.value(env)
	switch c.op {
	case "==":
		return equal(l, r)
	case "!=":
		return !equal(l, r)
	case "<", "<=", ">", ">=":
		return ordered(c.op, l, r)
	case "HAS":
		return has(l, r)
	case "IN":
		return in(l, r)
	case "NOT IN":
		return !in(l, r)
	case "CONTAINS":
		return contains(l, r)
	}
	return false
}

// equal: same type and value; lists element by element; a missing
// attribute is null.
func equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(normalize(x[i]), normalize(y[i])) {
				return false
			}
		}
		return true
	}
	return false // objects are never equal to anything
}

func ordered(op string, a, b any) bool {
	var c int
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			return false
		}
		c = cmpFloat(x, y)
	case string:
		y, ok := b.(string)
		if !ok {
			return false
		}
		c = strings.Compare(x, y)
	default:
		return false
	}
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// has: the list a holds b (a scalar a: a equals b).
func has(a, b any) bool {
	list, ok := a.([]any)
	if !ok {
		return a != nil && equal(a, b)
	}
	for _, v := range list {
		if equal(normalize(v), b) {
			return true
		}
	}
	return false
}

// in: a is an element of the list b (a scalar b: a equals b); a list a
// is in b when any of its elements is.
func in(a, b any) bool {
	if la, ok := a.([]any); ok {
		for _, v := range la {
			if in(normalize(v), b) {
				return true
			}
		}
		return false
	}
	if a == nil {
		return false
	}
	return has(b, a)
}

// contains: the string a holds the substring b; a list a holds a string
// that does.
func contains(a, b any) bool {
	sub, ok := b.(string)
	if !ok {
		return false
	}
	switch x := a.(type) {
	case string:
		return strings.Contains(x, sub)
	case []any:
		for _, v := range x {
			if s, ok := v.(string); ok && strings.Contains(s, sub) {
				return true
			}
		}
	}
	return false
}

// walkPaths calls f for every attribute path in n.
func walkPaths(n node, f func(*path)) {
	visit := func(o operand) {
		if p, ok := o.(*path); ok {
			f(p)
		}
	}
	switch x := n.(type) {
	case *logical:
		walkPaths(x.left, f)
		walkPaths(x.right, f)
	case *negation:
		walkPaths(x.inner, f)
	case *truth:
		visit(x.v)
	case *comparison:
		visit(x.left)
		visit(x.right)
	}
}
