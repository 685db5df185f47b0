package taskrouter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/voxgate/voxgate/taskrouter/expr"
)

// routing is a workflow's parsed configuration.
type routing struct {
	filters []routeFilter
	deflt   routeTarget // default_filter; queue "" = none
}

type routeFilter struct {
	name    string
	expr    *expr.Expr
	targets []routeTarget
}

type routeTarget struct {
	queue       string     // WQ sid
	expr        *expr.Expr // nil: every worker of the queue
	priority    *int       // overrides the task's priority
	timeout     int        // seconds of task age after which the next target applies; 0 = none
	skipIf      *expr.Expr
	orderBy     []orderKey
	knownWorker string // known_worker_sid
	knownName   string // known_worker_friendly_name
}

type orderKey struct {
	path []string // worker attribute path
	desc bool
}

// rawConfig is the configuration JSON as Twilio documents it.
type rawConfig struct {
	TaskRouting *struct {
		Filters []struct {
			FilterFriendlyName string      `json:"filter_friendly_name"`
			FriendlyName       string      `json:"friendlyName"`
			Expression         string      `json:"expression"`
			Targets            []rawTarget `json:"targets"`
		} `json:"filters"`
		DefaultFilter *rawTarget `json:"default_filter"`
	} `json:"task_routing"`
}

type rawTarget struct {
	Queue                   string       `json:"queue"`
	Expression              string       `json:"expression"`
	Priority                *json.Number `json:"priority"`
	Timeout                 *json.Number `json:"timeout"`
	OrderBy                 string       `json:"order_by"`
	SkipIf                  string       `json:"skip_if"`
	KnownWorkerSID          string       `json:"known_worker_sid"`
	KnownWorkerFriendlyName string       `json:"known_worker_friendly_name"`
}

// ConfigError is a workflow configuration refused: Path names the
// offending field (task_routing.filters[0].expression).
type ConfigError struct {
	Path string
	Err  error
}

func (e *ConfigError) Error() string {
	if e.Path == "" {
		return "configuration: " + e.Err.Error()
	}
	return "configuration: " + e.Path + ": " + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// parseRouting parses and checks a configuration; queueExists says
// whether a queue SID belongs to the workspace.
func parseRouting(js string, queueExists func(string) bool) (*routing, error) {
	var raw rawConfig
	dec := json.NewDecoder(bytes.NewReader([]byte(js)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("not valid JSON: %w", err)}
	}
	if raw.TaskRouting == nil {
		return nil, &ConfigError{Path: "task_routing", Err: errors.New("missing")}
	}
	rt := &routing{}
	for i, f := range raw.TaskRouting.Filters {
		at := fmt.Sprintf("task_routing.filters[%d]", i)
		name := f.FilterFriendlyName
		if name == "" {
			name = f.FriendlyName
		}
		src := strings.TrimSpace(f.Expression)
		if src == "" {
			src = "1==1"
		}
		e, err := expr.Compile(src)
		if err != nil {
			return nil, &ConfigError{Path: at + ".expression", Err: err}
		}
		rf := routeFilter{name: name, expr: e}
		if len(f.Targets) == 0 {
			return nil, &ConfigError{Path: at + ".targets", Err: errors.New("a filter needs at least one target")}
		}
		for j, t := range f.Targets {
			tg, err := parseTarget(t, fmt.Sprintf("%s.targets[%d]", at, j), queueExists)
			if err != nil {
				return nil, err
			}
			rf.targets = append(rf.targets, tg)
		}
		rt.filters = append(rt.filters, rf)
	}
	if d := raw.TaskRouting.DefaultFilter; d != nil && d.Queue != "" {
		tg, err := parseTarget(*d, "task_routing.default_filter", queueExists)
		if err != nil {
			return nil, err
		}
		rt.deflt = tg
	}
	return rt, nil
}

func parseTarget(t rawTarget, at string, queueExists func(string) bool) (routeTarget, error) {
	tg := routeTarget{queue: t.Queue, knownWorker: t.KnownWorkerSID, knownName: t.KnownWorkerFriendlyName}
	if t.Queue == "" {
		return tg, &ConfigError{Path: at + ".queue", Err: errors.New("missing")}
	}
	if !queueExists(t.Queue) {
		return tg, &ConfigError{Path: at + ".queue", Err: fmt.Errorf("no task queue %s in this workspace", t.Queue)}
	}
	var err error
	if s := strings.TrimSpace(t.Expression); s != "" {
		if tg.expr, err = expr.Compile(s); err != nil {
			return tg, &ConfigError{Path: at + ".expression", Err: err}
		}
	}
	if s := strings.TrimSpace(t.SkipIf); s != "" {
		if tg.skipIf, err = expr.Compile(s); err != nil {
			return tg, &ConfigError{Path: at + ".skip_if", Err: err}
		}
	}
	if t.Priority != nil {
		p, err := t.Priority.Int64()
		if err != nil || p < 0 || p > 1<<31-1 {
			return tg, &ConfigError{Path: at + ".priority", Err: fmt.Errorf("%q is not an integer from 0 to 2147483647", *t.Priority)}
		}
		pi := int(p)
		tg.priority = &pi
	}
	if t.Timeout != nil {
		s, err := t.Timeout.Int64()
		if err != nil || s < 0 || s > MaxTaskTimeout {
			return tg, &ConfigError{Path: at + ".timeout", Err: fmt.Errorf("%q is not a number of seconds from 0 to %d", *t.Timeout, MaxTaskTimeout)}
		}
		tg.timeout = int(s)
	}
	if tg.orderBy, err = parseOrderBy(t.OrderBy); err != nil {
		return tg, &ConfigError{Path: at + ".order_by", Err: err}
	}
	return tg, nil
}

// parseOrderBy reads "worker.level DESC, worker.years".
func parseOrderBy(s string) ([]orderKey, error) {
	var keys []orderKey
	for part := range strings.SplitSeq(s, ",") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			if strings.TrimSpace(s) == "" {
				return nil, nil
			}
			return nil, errors.New("empty key")
		}
		if len(fields) > 2 {
			return nil, fmt.Errorf("%q: want an attribute and ASC or DESC", strings.TrimSpace(part))
		}
		k := orderKey{path: strings.Split(strings.TrimPrefix(fields[0], "worker."), ".")}
		if len(fields) == 2 {
			switch strings.ToUpper(fields[1]) {
			case "ASC":
			case "DESC":
				k.desc = true
			default:
				return nil, fmt.Errorf("%q: want ASC or DESC", fields[1])
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// target returns the target at (filter, index); filter -1 is the default.
func (rt *routing) target(filter, index int) (routeTarget, bool) {
	if filter < 0 {
		return rt.deflt, rt.deflt.queue != "" && index == 0
	}
	if filter >= len(rt.filters) || index >= len(rt.filters[filter].targets) {
		return routeTarget{}, false
	}
	return rt.filters[filter].targets[index], true
}

// match returns the index of the first filter the task matches, -1 for
// the default filter.
func (rt *routing) match(attrs map[string]any) int {
	env := expr.Env{Bare: attrs, Task: attrs}
	for i, f := range rt.filters {
		if f.expr.Eval(env) {
			return i
		}
	}
	return -1
}
