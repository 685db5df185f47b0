package twiml

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// doc wraps verbs in a <Response> on line 1.
func doc(verbs string) []byte {
	return []byte("<Response>" + verbs + "</Response>")
}

// mustParse parses data and fails the test on an error.
func mustParse(t *testing.T, data []byte) (*Response, []Warning) {
	t.Helper()
	r, w, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(%s): unexpected error %v", data, err)
	}
	if r == nil {
		t.Fatalf("Parse(%s): nil Response without error", data)
	}
	return r, w
}

// only parses a document holding exactly one verb and returns it.
func only(t *testing.T, verbs string) (Verb, []Warning) {
	t.Helper()
	r, w := mustParse(t, doc(verbs))
	if len(r.Verbs) != 1 {
		t.Fatalf("Parse(%s): got %d verbs, want 1", verbs, len(r.Verbs))
	}
	return r.Verbs[0], w
}

// parseError parses data and returns its *Error, failing if there is none.
func parseError(t *testing.T, data []byte) *Error {
	t.Helper()
	r, _, err := Parse(data)
	if err == nil {
		t.Fatalf("Parse(%s): no error, got %s", data, dump(r))
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("Parse(%s): error %T %v is not *Error", data, err, err)
	}
	if r != nil {
		t.Errorf("Parse(%s): Response not nil alongside error", data)
	}
	return e
}

// codes returns the codes of warnings, in order.
func codes(ws []Warning) []int {
	out := []int{}
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

// wantCodes fails unless the warnings carry exactly the given codes.
func wantCodes(t *testing.T, ws []Warning, want ...int) {
	t.Helper()
	if want == nil {
		want = []int{}
	}
	if got := codes(ws); !reflect.DeepEqual(got, want) {
		t.Errorf("warning codes = %v, want %v; warnings: %v", got, want, ws)
	}
}

// wantEqual compares with reflect.DeepEqual and prints both on mismatch.
func wantEqual(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mismatch\n got: %s\nwant: %s", dump(got), dump(want))
	}
}

// dump prints v with pointers followed, for readable mismatch reports.
func dump(v any) string {
	var b strings.Builder
	dumpValue(&b, reflect.ValueOf(v), 0)
	return b.String()
}

func dumpValue(b *strings.Builder, v reflect.Value, depth int) {
	if depth > 12 {
		b.WriteString("...")
		return
	}
	switch v.Kind() {
	case reflect.Invalid:
		b.WriteString("nil")
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		if v.Kind() == reflect.Pointer {
			b.WriteString("&")
		}
		dumpValue(b, v.Elem(), depth+1)
	case reflect.Struct:
		b.WriteString(v.Type().Name() + "{")
		for i := 0; i < v.NumField(); i++ {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(v.Type().Field(i).Name + ":")
			dumpValue(b, v.Field(i), depth+1)
		}
		b.WriteString("}")
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("[]nil")
			return
		}
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			dumpValue(b, v.Index(i), depth+1)
		}
		b.WriteString("]")
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	default:
		fmt.Fprintf(b, "%v", v)
	}
}
