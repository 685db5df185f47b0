package taskrouter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxAssignmentCallbacks bounds assignment callbacks in flight; more wait
// their turn (each is bounded by the HTTP client's timeout).
const maxAssignmentCallbacks = 32

// instruction is an assignment callback's JSON answer.
type instruction struct {
	Instruction         string `json:"instruction"`
	ActivitySID         string `json:"activity_sid"`
	To                  string `json:"to"`
	From                string `json:"from"`
	URL                 string `json:"url"`
	PostWorkActivitySID string `json:"post_work_activity_sid"`
	Timeout             int    `json:"timeout"`
	// Conference is a conference instruction's room settings
	// (conference_status_callback, …; conference_instruction.go).
	Conference *ConferenceOptions `json:"-"`
}

// assignmentCallback posts a new reservation to the workflow's
// assignment callback URL (then its fallback) and carries out the
// instruction in the answer: accept, reject, dequeue, call or redirect.
// An empty answer leaves the reservation to the REST API. r.mu held; the
// request runs in its own goroutine.
func (r *Router) assignmentCallback(ws *workspace, wf *workflow, res *reservation) {
	t, w := res.task, res.worker
	form := url.Values{
		"AccountSid": {r.opts.AccountSID}, "WorkspaceSid": {ws.SID}, "WorkflowSid": {wf.SID},
		"TaskQueueSid": {t.TaskQueueSID}, "TaskSid": {t.SID}, "TaskAttributes": {t.Attributes},
		"TaskAge": {fmt.Sprint(int(r.now().Sub(t.Created).Seconds()))}, "TaskPriority": {fmt.Sprint(t.prio)},
		"TaskChannelUniqueName": {t.TaskChannelUniqueName}, "WorkerSid": {w.SID}, "WorkerName": {w.FriendlyName},
		"WorkerAttributes": {w.Attributes}, "ReservationSid": {res.SID},
	}
	urls := []string{wf.AssignmentCallbackURL, wf.FallbackAssignmentCallbackURL}
	wsSID, resSID := ws.SID, res.SID
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		select {
		case r.assignSlots <- struct{}{}:
			defer func() { <-r.assignSlots }()
		case <-r.runCtx.Done():
			return
		}
		in, ok := r.fetchInstruction(urls, form)
		switch {
		case !ok || in.Instruction == "":
			return
		case !strings.Contains(" accept reject dequeue call redirect conference ", " "+in.Instruction+" "):
			r.log.Warn("taskrouter: assignment callback: unsupported instruction", "reservation_sid", resSID, "instruction", in.Instruction)
			return
		}
		if _, err := r.UpdateReservation(wsSID, resSID, instructionParams(in)); err != nil {
			r.log.Info("taskrouter: assignment callback instruction refused", "reservation_sid", resSID, "instruction", in.Instruction, "error", err)
		}
	}()
}

// fetchInstruction tries each URL in turn until one answers 2xx.
func (r *Router) fetchInstruction(urls []string, form url.Values) (instruction, bool) {
	for _, u := range urls {
		if u == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(r.runCtx, 15*time.Second)
		in, err := r.postAssignment(ctx, u, form)
		cancel()
		if err == nil {
			return in, true
		}
		r.log.Warn("taskrouter: assignment callback", "url", u, "reservation_sid", form.Get("ReservationSid"), "error", err)
	}
	return instruction{}, false
}

func (r *Router) postAssignment(ctx context.Context, u string, form url.Values) (instruction, error) {
	var in instruction
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return in, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r.opts.AuthToken != "" {
		req.Header.Set("X-Twilio-Signature", signature(r.opts.AuthToken, u, form))
	}
	resp, err := r.opts.HTTPClient.Do(req)
	if err != nil {
		return in, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return in, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return in, err
	}
	if strings.TrimSpace(string(body)) == "" {
		return in, nil
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return in, fmt.Errorf("the answer is not an instruction JSON object: %w", err)
	}
	if in.Instruction == "conference" {
		if in.Conference, err = conferenceOptionsJSON(body); err != nil {
			return in, err
		}
	}
	return in, nil
}

// instructionParams turns an instruction into a reservation update.
func instructionParams(in instruction) ReservationParams {
	switch in.Instruction {
	case "accept":
		return ReservationParams{Status: ResAccepted}
	case "reject":
		return ReservationParams{Status: ResRejected, WorkerActivitySID: in.ActivitySID}
	}
	return ReservationParams{Instruction: Assignment{Instruction: in.Instruction, To: in.To, From: in.From, URL: in.URL,
		PostWorkActivitySID: in.PostWorkActivitySID, Timeout: in.Timeout, Conference: in.Conference}}
}
