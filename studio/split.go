package studio

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// splitOperators are the condition types of split-based-on (§1.5).
var splitOperators = map[string]bool{
	"equal_to": true, "not_equal_to": true,
	"matches_any_of": true, "does_not_match_any_of": true,
	"contains": true, "does_not_contain": true,
	"starts_with": true, "does_not_start_with": true,
	"is_blank": true, "is_not_blank": true,
	"regex":     true,
	"less_than": true, "greater_than": true,
	"is_before_date": true, "is_after_date": true,
	"is_before_time": true, "is_after_time": true,
}

// matchCondition tests input against one condition (both already
// rendered). String comparisons ignore case, as Studio's do; regex must
// match the whole input, ignoring case. A value that cannot be read for
// the operator (a bad number, date, time or regex) never matches, and the
// reason is returned.
func matchCondition(op, input, value string) (bool, error) {
	switch op {
	case "equal_to":
		return strings.EqualFold(input, value), nil
	case "not_equal_to":
		return !strings.EqualFold(input, value), nil
	case "matches_any_of":
		return matchesAny(input, value), nil
	case "does_not_match_any_of":
		return !matchesAny(input, value), nil
	case "contains":
		return strings.Contains(strings.ToLower(input), strings.ToLower(value)), nil
	case "does_not_contain":
		return !strings.Contains(strings.ToLower(input), strings.ToLower(value)), nil
	case "starts_with":
		return strings.HasPrefix(strings.ToLower(input), strings.ToLower(value)), nil
	case "does_not_start_with":
		return !strings.HasPrefix(strings.ToLower(input), strings.ToLower(value)), nil
	case "is_blank":
		return strings.TrimSpace(input) == "", nil
	case "is_not_blank":
		return strings.TrimSpace(input) != "", nil
	case "regex":
		re, err := compileSplitRegex(value)
		if err != nil {
			return false, err
		}
		return re.MatchString(input), nil
	case "less_than", "greater_than":
		a, err1 := parseNumber(input)
		b, err2 := parseNumber(value)
		if err2 != nil {
			return false, fmt.Errorf("value: %w", err2)
		}
		if err1 != nil {
			return false, nil // a non-number input simply does not match
		}
		if op == "less_than" {
			return a < b, nil
		}
		return a > b, nil
	case "is_before_date", "is_after_date":
		a, ok := parseDate(input)
		b, ok2 := parseDate(value)
		if !ok2 {
			return false, fmt.Errorf("value %q: want a date YYYY-MM-DD", value)
		}
		if !ok {
			return false, nil
		}
		if op == "is_before_date" {
			return a.Before(b), nil
		}
		return a.After(b), nil
	case "is_before_time", "is_after_time":
		a, ok := parseClock(input)
		b, ok2 := parseClock(value)
		if !ok2 {
			return false, fmt.Errorf("value %q: want a time HH:MM (24 h)", value)
		}
		if !ok {
			return false, nil
		}
		if op == "is_before_time" {
			return a < b, nil
		}
		return a > b, nil
	}
	return false, fmt.Errorf("unknown condition type %q", op)
}

// matchesAny reports whether input equals one of the comma-separated
// items of list (spaces around items ignored, case ignored).
func matchesAny(input, list string) bool {
	in := strings.TrimSpace(input)
	for _, item := range strings.Split(list, ",") {
		if strings.EqualFold(in, strings.TrimSpace(item)) {
			return true
		}
	}
	return false
}

// compileSplitRegex compiles a split regex: whole input, case ignored.
func compileSplitRegex(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(`(?i)^(?:` + expr + `)$`)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", expr, err)
	}
	return re, nil
}

// parseNumber reads a decimal number, ignoring surrounding spaces.
func parseNumber(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}

// parseDate reads YYYY-MM-DD, or the date part of an RFC 3339 timestamp.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// parseClock reads HH:MM or HH:MM:SS (24 h), or the time of an RFC 3339
// timestamp, as seconds since midnight.
func parseClock(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Hour()*3600 + t.Minute()*60 + t.Second(), true
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Hour()*3600 + t.Minute()*60 + t.Second(), true
		}
	}
	return 0, false
}
