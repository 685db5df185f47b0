package twiml

import (
	"encoding/json"
	"unicode/utf8"
)

// Enqueue puts the caller in a named queue; twiml-voice.md §2.7.
type Enqueue struct {
	Pos
	// QueueName is the queue (element text); "" when a Task/workflowSid is
	// used instead.
	QueueName string
	// Action is requested when the call leaves the queue; "" = none (the
	// next verb runs instead).
	Action string
	// Method for Action: "GET" or "POST", default POST.
	Method string
	// WaitURL is the hold TwiML/audio, run in the EnqueueWait context and
	// re-requested whenever it ends. Meaningful only when HasWaitURL.
	WaitURL string
	// HasWaitURL is false when waitUrl is absent (use the built-in hold
	// music); true with WaitURL == "" means silence.
	HasWaitURL bool
	// WaitURLMethod is "GET" or "POST": default POST when waitUrl is given,
	// GET for the built-in playlist.
	WaitURLMethod string
	// MaxQueueSize sizes an auto-created queue; 0 when absent (the queue
	// default, 1000, applies). At most 5000.
	MaxQueueSize int
	// WorkflowSID is a TaskRouter workflow; kept as given.
	WorkflowSID string
	// Task is the <Task> child, if any.
	Task *Task
}

// Name returns "Enqueue".
func (*Enqueue) Name() string { return "Enqueue" }

// Task is <Task>: TaskRouter task attributes as opaque JSON.
type Task struct {
	Pos
	// JSON is the element text (a JSON object), trimmed.
	JSON string
	// Priority and Timeout (seconds) are the attributes; 0 when absent.
	Priority int
	Timeout  int
}

// Name returns "Task".
func (*Task) Name() string { return "Task" }

// Leave removes the caller from the queue (only meaningful in EnqueueWait).
type Leave struct{ Pos }

// Name returns "Leave".
func (*Leave) Name() string { return "Leave" }

const (
	maxQueueName = 64
	maxQueueSize = 5000
)

func (c *converter) enqueue(n *node) *Enqueue {
	e := c.elem(n)
	waitURL, hasWait := e.raw("waitUrl")
	q := &Enqueue{
		Pos:          Pos{LineNo: n.line},
		Action:       e.str("action", ""),
		Method:       e.method("method", CodeSchema),
		WaitURL:      trimmed(waitURL),
		HasWaitURL:   hasWait,
		MaxQueueSize: e.integer("maxQueueSize", 0, 1, maxQueueSize, CodeSchema),
		WorkflowSID:  e.str("workflowSid", ""),
	}
	defMethod := "GET"
	if hasWait && q.WaitURL != "" {
		defMethod = "POST"
	}
	q.WaitURLMethod = e.methodOr("waitUrlMethod", defMethod, CodeSchema)
	e.done()
	for _, k := range n.kids {
		switch {
		case k.isText():
		case k.name == "Task":
			if q.Task != nil {
				c.errorf(k, "Enqueue", CodeSchema, "Schema validation warning: <Enqueue> takes at most one <Task>")
				continue
			}
			q.Task = c.task(k)
		default:
			c.misplaced(k, "Enqueue", CodeSchema)
		}
	}
	q.QueueName = n.textContent()
	switch {
	case q.QueueName == "" && q.Task == nil && q.WorkflowSID == "":
		c.warnf(n, "Enqueue", CodeSchema, "Schema validation warning: <Enqueue> has no queue name")
	case utf8.RuneCountInString(q.QueueName) > maxQueueName:
		c.warnf(n, "Enqueue", CodeSchema, "Schema validation warning: queue name longer than %d characters", maxQueueName)
	}
	return q
}

func (c *converter) task(n *node) *Task {
	e := c.elem(n)
	t := &Task{
		Pos:      Pos{LineNo: n.line},
		Priority: e.integer("priority", 0, 0, maxInt, CodeSchema),
		Timeout:  e.integer("timeout", 0, 1, maxInt, CodeSchema),
	}
	c.simple(n, "Task", true)
	t.JSON = n.textContent()
	if t.JSON != "" && !json.Valid([]byte(t.JSON)) {
		c.warnf(n, "Task", CodeSchema, "Schema validation warning: <Task> text is not valid JSON")
	}
	return t
}
