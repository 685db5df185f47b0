package studio

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned by stores and sources for an unknown SID.
var ErrNotFound = errors.New("studio: not found")

// Execution statuses, as the Studio API names them.
const (
	StatusActive = "active"
	StatusEnded  = "ended"
)

// Execution is one run of a flow for one call (Studio's Execution
// resource, plus where it stands).
type Execution struct {
	Sid          string `json:"sid"`           // FN…
	FlowSid      string `json:"flow_sid"`      // FW…
	FlowRevision int    `json:"flow_revision"` // revision run (the API's flow_version)
	// ContactSid (FC…) and ContactAddress identify the caller.
	ContactSid     string `json:"contact_sid"`
	ContactAddress string `json:"contact_channel_address"`
	// InitiatedBy is the CallSid that started the execution ("" for a
	// REST start).
	InitiatedBy string `json:"initiated_by"`
	// CallSid is the call the execution drives: "" while a REST-started
	// execution has no call (before its make-outgoing-call widget, or after
	// that call was not answered).
	CallSid string `json:"call_sid"`
	Status  string `json:"status"` // StatusActive or StatusEnded
	// Context is the execution context (flow, contact, trigger, widgets):
	// what GET …/Executions/{FN}/Context returns.
	Context     map[string]any `json:"context"`
	DateCreated time.Time      `json:"date_created"`
	DateUpdated time.Time      `json:"date_updated"`
	// EndReason says why the execution ended ("" while active).
	EndReason string `json:"end_reason,omitempty"`
	// Runtime is where the execution stands; a store saves it opaquely.
	Runtime Runtime `json:"runtime"`
}

// Runtime is the executor's bookkeeping for an execution. Stores persist
// it as it is (it round-trips through JSON); nothing else should read it.
type Runtime struct {
	// Parked is the call widget waiting for its callback, in the innermost
	// frame ("" when none).
	Parked string `json:"parked,omitempty"`
	// Deadline is when a parked add-twiml-redirect stops waiting for the
	// return (zero: no deadline).
	Deadline time.Time `json:"deadline,omitzero"`
	// Dialing: Parked is a make-outgoing-call widget whose call (CallSid)
	// has not answered yet.
	Dialing bool `json:"dialing,omitempty"`
	// Subflows are the run-subflow frames entered, innermost last.
	Subflows []Frame `json:"subflows,omitempty"`
	// Steps counts the steps taken.
	Steps int `json:"steps"`
	// LastWidget and Repeats track the same widget running in a row.
	LastWidget string `json:"last_widget,omitempty"`
	Repeats    int    `json:"repeats,omitempty"`
	// LastStep is the sid of the latest step (the next one's parent).
	LastStep string `json:"last_step,omitempty"`
	// AwaitReply: Parked is a send-and-wait-for-reply waiting for the
	// contact's reply until Deadline; AwaitMessage is the sid of the
	// message it sent (its failure takes deliveryFailure).
	AwaitReply   bool   `json:"await_reply,omitempty"`
	AwaitMessage string `json:"await_message,omitempty"`
}

// Frame is a subflow being run by a run-subflow widget.
type Frame struct {
	FlowSid  string `json:"flow_sid"`
	Revision int    `json:"revision"`
	// Widget is the run-subflow state of the parent frame.
	Widget string `json:"widget"`
	// ParentStep is the step that entered the run-subflow widget.
	ParentStep string `json:"parent_step,omitempty"`
	// Context is the subflow's own context (flow.variables, widgets,
	// trigger.parent).
	Context map[string]any `json:"context"`
}

// Step is one transition of an execution (Studio's Step resource).
type Step struct {
	Sid           string `json:"sid"` // FT…
	ExecutionSid  string `json:"execution_sid"`
	FlowSid       string `json:"flow_sid"` // the (sub)flow the widget belongs to
	ParentStepSid string `json:"parent_step_sid,omitempty"`
	// Name is the event that caused the transition (incomingCall, keypress…).
	Name             string `json:"name"`
	TransitionedFrom string `json:"transitioned_from"`
	// TransitionedTo is the next widget, or "Ended".
	TransitionedTo string `json:"transitioned_to"`
	// Type is the widget type of TransitionedFrom.
	Type string `json:"type"`
	// Context is the (sub)flow's context as it stood after the step.
	Context     json.RawMessage `json:"context"`
	DateCreated time.Time       `json:"date_created"`
}

// Ended is Step.TransitionedTo at the end of a branch.
const Ended = "Ended"

// ExecutionFilter selects executions; zero fields match everything.
type ExecutionFilter struct {
	FlowSid        string
	Status         string
	ContactAddress string
	CreatedFrom    time.Time // inclusive
	CreatedTo      time.Time // exclusive
}

// Matches reports whether e passes the filter.
func (f ExecutionFilter) Matches(e *Execution) bool {
	return (f.FlowSid == "" || e.FlowSid == f.FlowSid) &&
		(f.Status == "" || e.Status == f.Status) &&
		(f.ContactAddress == "" || e.ContactAddress == f.ContactAddress) &&
		(f.CreatedFrom.IsZero() || !e.DateCreated.Before(f.CreatedFrom)) &&
		(f.CreatedTo.IsZero() || e.DateCreated.Before(f.CreatedTo))
}

// ExecutionStore keeps executions and their steps. Implementations must be
// safe for concurrent use and must not share memory with callers: values
// passed in and returned are copies.
type ExecutionStore interface {
	// CreateExecution stores a new execution.
	CreateExecution(ctx context.Context, e *Execution) error
	// UpdateExecution replaces a stored execution (ErrNotFound if absent).
	UpdateExecution(ctx context.Context, e *Execution) error
	// Execution returns one execution (ErrNotFound if absent).
	Execution(ctx context.Context, sid string) (*Execution, error)
	// ActiveExecutionForCall returns the active execution of a call
	// (ErrNotFound if none).
	ActiveExecutionForCall(ctx context.Context, callSid string) (*Execution, error)
	// Executions lists executions, newest first.
	Executions(ctx context.Context, f ExecutionFilter) ([]*Execution, error)
	// DeleteExecution removes an execution and its steps (ErrNotFound if absent).
	DeleteExecution(ctx context.Context, sid string) error
	// AddStep stores a step of an existing execution.
	AddStep(ctx context.Context, s *Step) error
	// Steps lists an execution's steps, oldest first.
	Steps(ctx context.Context, executionSid string) ([]*Step, error)
}

// ContactSid is the FC… sid of a contact address (stable per address).
func ContactSid(address string) string {
	sum := md5.Sum([]byte(address))
	return "FC" + hex.EncodeToString(sum[:])
}
