package expr

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzCompile: any input either compiles (and then evaluates without
// panicking) or is refused with a SyntaxError positioned inside it.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"1==1", "language == 'es'", "routing.skills HAS 'support'", "task.language IN worker.languages",
		"type NOT IN ['spam', \"test\"]", "name CONTAINS 'smith'", "(a == 1 OR b != 2) AND NOT c",
		"a >= -1.5 && b <= 2 || !c", "workers.available == 0", "x == 'it\\'s'", "[1,2] == [1,2]", "((((",
		"a IN [", "é", "a == null",
	} {
		f.Add(s)
	}
	task := map[string]any{"language": "es", "a": 1.0, "tags": []any{"x", 2.0}, "o": map[string]any{"b": "c"}}
	env := Env{Bare: task, Task: task, Worker: task, Workers: map[string]any{"available": 1.0}}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Compile(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q): %T %v, want *SyntaxError", src, err, err)
			}
			if n := utf8.RuneCountInString(src); se.Pos < 1 || se.Pos > n+1 {
				t.Fatalf("Compile(%q): position %d outside 1..%d", src, se.Pos, n+1)
			}
			return
		}
		_ = e.Eval(env)
		_ = e.Eval(Env{})
		if e.String() != src {
			t.Fatalf("String() = %q", e.String())
		}
	})
}
