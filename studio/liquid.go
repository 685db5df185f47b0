package studio

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/osteele/liquid"
)

// liquidRenderer renders Studio's Liquid templates: the standard filters
// plus Studio's to_json. It is safe for concurrent use.
type liquidRenderer struct {
	engine *liquid.Engine
}

func newLiquid() *liquidRenderer {
	e := liquid.NewEngine()
	e.RegisterFilter("to_json", func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	})
	return &liquidRenderer{engine: e}
}

// hasLiquid reports whether s holds a Liquid tag or output.
func hasLiquid(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// check parses a template without rendering it.
func (l *liquidRenderer) check(text string) error {
	if !hasLiquid(text) {
		return nil
	}
	if _, err := l.engine.ParseString(text); err != nil {
		return err
	}
	return nil
}

// render renders text with bindings. Missing variables render empty.
func (l *liquidRenderer) render(text string, bindings map[string]any) (string, error) {
	if !hasLiquid(text) {
		return text, nil
	}
	out, err := l.engine.ParseAndRenderString(text, bindings)
	if err != nil {
		return "", fmt.Errorf("liquid: %w", err)
	}
	return out, nil
}

// liquidBindings converts an execution context for Liquid: json.Number
// values become int64 or float64 so that comparisons and filters treat
// them as numbers (integers beyond int64 stay exact text).
func liquidBindings(ctx map[string]any) map[string]any {
	out, _ := liquidValue(ctx).(map[string]any)
	return out
}

func liquidValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = liquidValue(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = liquidValue(x)
		}
		return s
	case json.Number:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n
		}
		// An integer too large for int64 stays exact, as text.
		if !strings.ContainsAny(string(v), ".eE") {
			return string(v)
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return f
		}
		return string(v)
	}
	return v
}
