package studio

import "testing"

func TestSplitOperators(t *testing.T) {
	for _, tc := range []struct {
		op, input, value string
		want             bool
	}{
		{"equal_to", "Sales", "sales", true},
		{"equal_to", "Yes.", "yes", false},
		{"equal_to", "1", "1", true},
		{"not_equal_to", "1", "2", true},
		{"not_equal_to", "A", "a", false},
		{"matches_any_of", "2", "1, 2 ,3", true},
		{"matches_any_of", "Support", "sales,support", true},
		{"matches_any_of", "4", "1,2,3", false},
		{"does_not_match_any_of", "4", "1,2,3", true},
		{"does_not_match_any_of", "2", "1,2,3", false},
		{"contains", "I want SALES please", "sales", true},
		{"contains", "support", "sales", false},
		{"does_not_contain", "support", "sales", true},
		{"starts_with", "+44 20 7946", "+44", true},
		{"starts_with", "+1 555", "+44", false},
		{"does_not_start_with", "+1 555", "+44", true},
		{"is_blank", "  \t", "Is Blank", true},
		{"is_blank", "x", "", false},
		{"is_not_blank", "x", "Is Not Blank", true},
		{"is_not_blank", "", "", false},
		{"regex", "ABC123", "[a-z]+[0-9]+", true},
		{"regex", "xABC123", "abc[0-9]+", false}, // whole input
		{"regex", "12345", `\d{5}`, true},
		{"less_than", "3", "10", true},
		{"less_than", "30", "10", false},
		{"less_than", " 2.5 ", "3", true},
		{"less_than", "abc", "3", false},
		{"greater_than", "11", "10", true},
		{"greater_than", "-1", "0", false},
		{"is_before_date", "2024-01-31", "2024-02-01", true},
		{"is_before_date", "2024-02-01T09:00:00Z", "2024-02-01", false},
		{"is_after_date", "2024-12-25", "2024-12-24", true},
		{"is_after_date", "garbage", "2024-12-24", false},
		{"is_before_time", "08:59", "09:00", true},
		{"is_before_time", "17:30:00", "17:00", false},
		{"is_after_time", "2024-05-01T18:15:00Z", "17:00", true},
		{"is_after_time", "09:00", "17:00", false},
	} {
		got, err := matchCondition(tc.op, tc.input, tc.value)
		if err != nil {
			t.Errorf("%s(%q, %q): %v", tc.op, tc.input, tc.value, err)
		}
		if got != tc.want {
			t.Errorf("%s(%q, %q) = %v, want %v", tc.op, tc.input, tc.value, got, tc.want)
		}
	}
	for op := range splitOperators {
		if _, err := matchCondition(op, "", ""); err != nil && op != "less_than" && op != "greater_than" &&
			op != "is_before_date" && op != "is_after_date" && op != "is_before_time" && op != "is_after_time" {
			t.Errorf("%s with empty strings: %v", op, err)
		}
	}
	for _, tc := range []struct{ op, value string }{{"regex", "("}, {"less_than", "ten"}, {"is_after_date", "tomorrow"}, {"is_before_time", "9am"}, {"nope", ""}} {
		if ok, err := matchCondition(tc.op, "1", tc.value); err == nil || ok {
			t.Errorf("%s %q: want an error and no match", tc.op, tc.value)
		}
	}
}

func TestLiquidRendering(t *testing.T) {
	l := newLiquid()
	var ctx map[string]any
	if err := decodeJSON([]byte(`{"flow": {"variables": {"n": 4, "big": 12345678901234567890, "name": "Bob"}},
	  "widgets": {"http": {"parsed": {"items": [{"sku": "a"}, {"sku": "b"}], "ok": true}}}}`), &ctx); err != nil {
		t.Fatal(err)
	}
	b := liquidBindings(ctx)
	for _, tc := range []struct{ in, want string }{
		{"{{flow.variables.n | plus: 1}}", "5"},
		{"{% if flow.variables.n > 3 %}big{% else %}small{% endif %}", "big"},
		{"{{flow.variables.big}}", "12345678901234567890"},
		{"{{widgets.http.parsed.items[1].sku}}", "b"},
		{"{{widgets.http.parsed | to_json}}", `{"items":[{"sku":"a"},{"sku":"b"}],"ok":true}`},
		{"{{widgets.nothing.here}}", ""},
		{"{{flow.variables.name | upcase}} {{ 'a b' | url_encode }}", "BOB a+b"},
		{"plain text", "plain text"},
	} {
		got, err := l.render(tc.in, b)
		if err != nil || got != tc.want {
			t.Errorf("render(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
