package expr

import (
	"encoding/json"
	"errors"
	"testing"
)

func attrs(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEval(t *testing.T) {
	task := attrs(t, `{"language":"es","priority":5,"vip":true,"type":"sales","name":"Ann Smith",
		"tags":["new","web"],"customer":{"tier":"gold","years":3},"n":null}`)
	worker := attrs(t, `{"languages":["es","en"],"level":4,"routing":{"skills":["support","sales"]},"name":"bob"}`)
	env := Env{Bare: task, Task: task, Worker: worker, Workers: map[string]any{"available": 0.0}}
	cases := []struct {
		src  string
		want bool
	}{
		{"1==1", true},
		{"1 == 2", false},
		{"language == 'es'", true},
		{`language == "es"`, true},
		{"language = 'es'", true},
		{"language != 'es'", false},
		{"language == 'ES'", false}, // case-sensitive values
		{"missing != 'es'", true},   // missing is null
		{"missing == 'es'", false},
		{"missing == null", true},
		{"n == null", true},
		{"missing > 1", false},
		{"missing < 1", false},
		{"priority > 4", true},
		{"priority >= 5", true},
		{"priority < 5", false},
		{"priority <= 5.0", true},
		{"priority == '5'", false}, // no type coercion
		{"priority != '5'", true},
		{"name > 'Ann'", true},
		{"vip == true", true},
		{"vip", true},
		{"language", false}, // a lone non-boolean is not true
		{"customer.tier == 'gold'", true},
		{"customer.years >= 3", true},
		{"customer.tier.x == 'gold'", false},
		{"tags HAS 'web'", true},
		{"tags HAS 'phone'", false},
		{"tags has 'web'", true},
		{"language HAS 'es'", true}, // scalar HAS = equality
		{"language IN ['es', 'fr']", true},
		{"language in ['de']", false},
		{"language NOT IN ['de', 'fr']", true},
		{"language not in ['es']", false},
		{"missing NOT IN ['x']", true},
		{"missing IN ['x']", false},
		{"tags IN ['web']", true},
		{"name CONTAINS 'Smith'", true},
		{"name CONTAINS 'smith'", false},
		{"tags CONTAINS 'we'", true},
		{"priority CONTAINS '5'", false},
		{"language == 'es' AND priority > 1", true},
		{"language == 'es' && priority > 9", false},
		{"language == 'fr' OR priority > 1", true},
		{"language == 'fr' || priority > 9", false},
		{"language == 'fr' OR priority > 1 AND vip == false", false}, // AND binds tighter
		{"(language == 'fr' OR priority > 1) AND vip == true", true},
		{"NOT language == 'fr'", true},
		{"NOT (language == 'es' AND vip)", false},
		{"!vip", false},
		{"task.language IN worker.languages", true},
		{"worker.routing.skills HAS task.type", true},
		{"worker.level > 3 AND task.vip == true", true},
		{"workers.available == 0", true},
		{"[] == []", true},
		{"tags == ['new', 'web']", true},
		{"-1 < 0", true},
		{"customer == customer", false}, // objects compare equal to nothing
	}
	for _, c := range cases {
		e, err := Compile(c.src)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.src, err)
			continue
		}
		if got := e.Eval(env); got != c.want {
			t.Errorf("%q = %v, want %v", c.src, got, c.want)
		}
	}
}

func TestNamespaceFallsBackToBare(t *testing.T) {
	// In target_workers there is no task: worker.x still reads the worker's
	// attributes through Bare.
	w := attrs(t, `{"skills":["a"],"worker":{"x":1}}`)
	if !MustCompile("worker.x == 1").Eval(Env{Bare: w}) {
		t.Error("worker.x with no Worker map should read Bare")
	}
	if !MustCompile("skills HAS 'a'").Eval(Env{Bare: w, Worker: w}) {
		t.Error("bare path")
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		src string
		pos int
	}{
		{"", 1},
		{"   ", 1},
		{"language ==", 12},
		{"language == 'es", 13},
		{"language == 'es' AND", 21},
		{"(language == 'es'", 18},
		{"language == 'es')", 17},
		{"language === 'es'", 12},
		{"language ~ 'es'", 10},
		{"skills HAS", 11},
		{"a NOT 'x'", 7},
		{"a IN [b]", 7},
		{"a IN ['x' 'y']", 11},
		{"a == 12abc", 8},
		{"first-name == 'x'", 6},
		{"a.b. == 1", 1},
		{"AND == 1", 1},
		{"1 == 1 1", 8},
		{"a == 1 or", 10},
		{"é == 1", 1},
		{"x == 'é' AND ?", 14},
	}
	for _, c := range cases {
		_, err := Compile(c.src)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Compile(%q) = %v, want a SyntaxError", c.src, err)
			continue
		}
		if se.Pos != c.pos {
			t.Errorf("Compile(%q): position %d (%v), want %d", c.src, se.Pos, se, c.pos)
		}
	}
}

func TestDepthLimit(t *testing.T) {
	src := ""
	for range 200 {
		src += "("
	}
	if _, err := Compile(src + "1==1"); err == nil {
		t.Error("deep nesting accepted")
	}
}

func TestRefs(t *testing.T) {
	r := MustCompile("task.a == 1 AND worker.b HAS 'x' OR c == 2").Refs()
	if !r.Task || !r.Worker || !r.Bare || r.Workers {
		t.Errorf("refs %+v", r)
	}
	if r := MustCompile("1==1").Refs(); r != (Refs{}) {
		t.Errorf("constant refs %+v", r)
	}
}

func BenchmarkEval(b *testing.B) {
	var task, worker map[string]any
	_ = json.Unmarshal([]byte(`{"language":"es","type":"support","priority":3}`), &task)
	_ = json.Unmarshal([]byte(`{"routing":{"skills":["support","sales"],"levels":{"support":3}},"languages":["es","en"]}`), &worker)
	e := MustCompile("worker.routing.skills HAS task.type AND task.language IN worker.languages AND task.priority >= 1")
	env := Env{Bare: task, Task: task, Worker: worker}
	b.ReportAllocs()
	for b.Loop() {
		if !e.Eval(env) {
			b.Fatal("false")
		}
	}
}
