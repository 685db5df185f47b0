package taskrouter

import (
	"encoding/json"
	"time"
)

// SID prefixes of TaskRouter resources.
const (
	PrefixWorkspace     = "WS"
	PrefixActivity      = "WA"
	PrefixTaskChannel   = "TC"
	PrefixWorker        = "WK"
	PrefixWorkerChannel = "WC"
	PrefixTaskQueue     = "WQ"
	PrefixWorkflow      = "WW"
	PrefixTask          = "WT"
	PrefixReservation   = "WR"
	PrefixEvent         = "EV"
)

// Task assignment statuses.
const (
	TaskPending   = "pending"
	TaskReserved  = "reserved"
	TaskAssigned  = "assigned"
	TaskWrapping  = "wrapping"
	TaskCompleted = "completed"
	TaskCanceled  = "canceled"
)

// Reservation statuses.
const (
	ResPending   = "pending"
	ResAccepted  = "accepted"
	ResRejected  = "rejected"
	ResTimeout   = "timeout"
	ResCanceled  = "canceled"
	ResRescinded = "rescinded"
	ResWrapping  = "wrapping"
	ResCompleted = "completed"
)

// Defaults and limits, as on Twilio.
const (
	DefaultTaskTimeout        = 86400   // seconds a task may live (TTL)
	MaxTaskTimeout            = 1209600 // 14 days
	DefaultReservationTimeout = 120     // seconds a worker has to accept
	MaxReservationTimeout     = 86400
	MaxAttributesBytes        = 16384 // task and worker attributes JSON
	DefaultEventsKept         = 10000 // events kept per workspace, newest first
	DefaultFinishedRetention  = 24 * time.Hour
)

// Workspace is the container of every other resource.
type Workspace struct {
	SID                  string    `json:"sid"`
	FriendlyName         string    `json:"friendly_name"`
	EventCallbackURL     string    `json:"event_callback_url"`
	EventsFilter         string    `json:"events_filter"`
	DefaultActivitySID   string    `json:"default_activity_sid"`
	TimeoutActivitySID   string    `json:"timeout_activity_sid"`
	MultiTaskEnabled     bool      `json:"multi_task_enabled"`
	PrioritizeQueueOrder string    `json:"prioritize_queue_order"`
	Created              time.Time `json:"date_created"`
	Updated              time.Time `json:"date_updated"`
}

// Activity is a worker state; Available ones receive reservations.
type Activity struct {
	SID          string    `json:"sid"`
	WorkspaceSID string    `json:"workspace_sid"`
	FriendlyName string    `json:"friendly_name"`
	Available    bool      `json:"available"`
	Created      time.Time `json:"date_created"`
	Updated      time.Time `json:"date_updated"`
}

// TaskChannel is a kind of work (voice, chat, sms, default, …).
type TaskChannel struct {
	SID                     string    `json:"sid"`
	WorkspaceSID            string    `json:"workspace_sid"`
	FriendlyName            string    `json:"friendly_name"`
	UniqueName              string    `json:"unique_name"`
	ChannelOptimizedRouting bool      `json:"channel_optimized_routing"`
	Created                 time.Time `json:"date_created"`
	Updated                 time.Time `json:"date_updated"`
}

// WorkerChannel is a worker's capacity on one task channel.
type WorkerChannel struct {
	SID            string `json:"sid"`
	TaskChannelSID string `json:"task_channel_sid"`
	Capacity       int    `json:"configured_capacity"`
	Available      bool   `json:"available"`
}

// Worker is an agent.
type Worker struct {
	SID           string                    `json:"sid"`
	WorkspaceSID  string                    `json:"workspace_sid"`
	FriendlyName  string                    `json:"friendly_name"`
	Attributes    string                    `json:"attributes"`
	ActivitySID   string                    `json:"activity_sid"`
	Channels      map[string]*WorkerChannel `json:"channels"` // by task channel unique name
	StatusChanged time.Time                 `json:"date_status_changed"`
	IdleSince     time.Time                 `json:"idle_since"` // orders longest-idle
	Created       time.Time                 `json:"date_created"`
	Updated       time.Time                 `json:"date_updated"`
}

// TaskQueue holds tasks for the workers its TargetWorkers expression
// selects.
type TaskQueue struct {
	SID                    string    `json:"sid"`
	WorkspaceSID           string    `json:"workspace_sid"`
	FriendlyName           string    `json:"friendly_name"`
	TargetWorkers          string    `json:"target_workers"`
	TaskOrder              string    `json:"task_order"` // FIFO or LIFO
	MaxReservedWorkers     int       `json:"max_reserved_workers"`
	ReservationActivitySID string    `json:"reservation_activity_sid"`
	AssignmentActivitySID  string    `json:"assignment_activity_sid"`
	Created                time.Time `json:"date_created"`
	Updated                time.Time `json:"date_updated"`
}

// Workflow routes tasks to queues with its Configuration.
type Workflow struct {
	SID                           string    `json:"sid"`
	WorkspaceSID                  string    `json:"workspace_sid"`
	FriendlyName                  string    `json:"friendly_name"`
	Configuration                 string    `json:"configuration"`
	AssignmentCallbackURL         string    `json:"assignment_callback_url"`
	FallbackAssignmentCallbackURL string    `json:"fallback_assignment_callback_url"`
	TaskReservationTimeout        int       `json:"task_reservation_timeout"`
	Created                       time.Time `json:"date_created"`
	Updated                       time.Time `json:"date_updated"`
}

// Task is a unit of work: a call, a chat, a message conversation.
type Task struct {
	SID                   string    `json:"sid"`
	WorkspaceSID          string    `json:"workspace_sid"`
	WorkflowSID           string    `json:"workflow_sid"`
	Attributes            string    `json:"attributes"`
	AssignmentStatus      string    `json:"assignment_status"`
	Reason                string    `json:"reason"`
	Priority              int       `json:"priority"`
	Timeout               int       `json:"timeout"`
	TaskQueueSID          string    `json:"task_queue_sid"`
	TaskChannelSID        string    `json:"task_channel_sid"`
	TaskChannelUniqueName string    `json:"task_channel_unique_name"`
	RoutingTarget         string    `json:"routing_target"`
	FilterIndex           int       `json:"filter_index"` // -1: the default filter
	TargetIndex           int       `json:"target_index"`
	Seq                   uint64    `json:"seq"` // creation order, breaks ties
	VirtualStart          time.Time `json:"virtual_start_time"`
	QueueEntered          time.Time `json:"task_queue_entered_date"`
	Created               time.Time `json:"date_created"`
	Updated               time.Time `json:"date_updated"`
	// Live names the contact in this process's memory the task stands
	// for ("call CA…" for Send To Flex and <Enqueue workflowSid>, "chat
	// CH…" for web chat): when the gateway restarts that contact is gone
	// and the task is canceled (or wrapped, when assigned).
	Live string `json:"live,omitempty"`
}

// Reservation offers a task to a worker.
type Reservation struct {
	SID          string    `json:"sid"`
	WorkspaceSID string    `json:"workspace_sid"`
	TaskSID      string    `json:"task_sid"`
	WorkerSID    string    `json:"worker_sid"`
	WorkerName   string    `json:"worker_name"`
	Status       string    `json:"reservation_status"`
	Timeout      int       `json:"timeout"` // seconds the worker has to answer
	Seq          uint64    `json:"seq"`     // creation order, breaks ties
	Created      time.Time `json:"date_created"`
	Updated      time.Time `json:"date_updated"`
}

// Event is something that happened in a workspace.
type Event struct {
	SID          string         `json:"sid"`
	WorkspaceSID string         `json:"workspace_sid"`
	EventType    string         `json:"event_type"`
	ResourceType string         `json:"resource_type"`
	ResourceSID  string         `json:"resource_sid"`
	ActorType    string         `json:"actor_type"`
	ActorSID     string         `json:"actor_sid"`
	Description  string         `json:"description"`
	Data         map[string]any `json:"event_data"` // filled when read (Events, Event)
	Date         time.Time      `json:"event_date"`
	Source       string         `json:"source"`
	data         *eventData
}

// decodeAttributes parses an attributes JSON object ("" is {}).
func decodeAttributes(s string) (map[string]any, error) {
	if s == "" {
		return map[string]any{}, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}
