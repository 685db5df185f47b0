package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// Queue limits (Twilio's).
const (
	maxQueueNameChars = 64
	maxQueueSize      = 5000
)

// queueJSON is Twilio's queue resource.
type queueJSON struct {
	SID             string            `json:"sid"`
	AccountSID      string            `json:"account_sid"`
	FriendlyName    string            `json:"friendly_name"`
	CurrentSize     int               `json:"current_size"`
	MaxSize         int               `json:"max_size"`
	AverageWaitTime int               `json:"average_wait_time"`
	DateCreated     *string           `json:"date_created"`
	DateUpdated     *string           `json:"date_updated"`
	URI             string            `json:"uri"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
}

// memberJSON is Twilio's queue member resource.
type memberJSON struct {
	CallSID      string  `json:"call_sid"`
	QueueSID     string  `json:"queue_sid"`
	DateEnqueued *string `json:"date_enqueued"`
	Position     int     `json:"position"`
	WaitTime     int     `json:"wait_time"`
	URI          string  `json:"uri"`
}

// seconds rounds d to whole seconds.
func seconds(d time.Duration) int { return int(math.Round(d.Seconds())) }

// toQueueJSON renders q with its live size from QueueControl (0 without).
func (a *restAPI) toQueueJSON(q store.Queue) queueJSON {
	var (
		current int
		avg     time.Duration
	)
	if a.opts.Queues != nil {
		current, avg = a.opts.Queues.Size(q.SID)
	}
	base := a.accountPath() + "/Queues/" + q.SID
	return queueJSON{
		SID:             q.SID,
		AccountSID:      q.AccountSID,
		FriendlyName:    q.FriendlyName,
		CurrentSize:     current,
		MaxSize:         q.MaxSize,
		AverageWaitTime: seconds(avg),
		DateCreated:     rfc2822(q.DateCreated),
		DateUpdated:     rfc2822(q.DateUpdated),
		URI:             base + ".json",
		SubresourceURIs: map[string]string{"members": base + "/Members.json"},
	}
}

// toMemberJSON renders m of queueSID; position is the member's, or pos
// when the controller left it zero.
func (a *restAPI) toMemberJSON(queueSID string, m Member, pos int) memberJSON {
	if m.Position > 0 {
		pos = m.Position
	}
	return memberJSON{
		CallSID:      m.CallSID,
		QueueSID:     queueSID,
		DateEnqueued: rfc2822(m.DateEnqueued),
		Position:     pos,
		WaitTime:     seconds(m.WaitTime),
		URI:          a.accountPath() + "/Queues/" + queueSID + "/Members/" + m.CallSID + ".json",
	}
}

// queueParams reads FriendlyName and MaxSize; required says whether
// FriendlyName must be given (create) or may be left out (update, where
// zero values keep the current ones).
func queueParams(form url.Values, required bool) (name string, size int, err error) {
	name = form.Get("FriendlyName")
	switch n := utf8.RuneCountInString(name); {
	case n == 0 && required:
		return "", 0, badRequest(codeInvalidName, "FriendlyName is required")
	case n > maxQueueNameChars:
		return "", 0, badRequest(codeInvalidName, "FriendlyName must be at most %d characters, not %d", maxQueueNameChars, n)
	}
	def := 0
	if required {
		def = store.DefaultQueueMaxSize
	}
	size, err = parseInt("MaxSize", form.Get("MaxSize"), def, codeUnsupportedParam)
	if err != nil {
		return "", 0, err
	}
	if form.Get("MaxSize") != "" && (size < 1 || size > maxQueueSize) {
		return "", 0, badRequest(codeUnsupportedParam, "MaxSize must be from 1 to %d, not %d", maxQueueSize, size)
	}
	return name, size, nil
}

// duplicateName maps the store's duplicate-name error.
func duplicateName(r *http.Request, name string, err error) error {
	if errors.Is(err, store.ErrDuplicate) {
		return badRequest(codeInvalidName, "A queue named %q already exists", name)
	}
	return storeError(r, "queue", err)
}

// createQueue serves POST Queues.json.
func (a *restAPI) createQueue(w http.ResponseWriter, r *http.Request, _ []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	name, size, err := queueParams(form, true)
	if err != nil {
		return err
	}
	if err := a.requireStore(); err != nil {
		return err
	}
	q, err := a.opts.Store.CreateQueue(r.Context(), store.Queue{AccountSID: a.opts.AccountSID, FriendlyName: name, MaxSize: size})
	if err != nil {
		return duplicateName(r, name, err)
	}
	writeJSON(w, http.StatusCreated, a.toQueueJSON(q))
	return nil
}

// getQueue loads the queue named by a path id (see getOwned).
func (a *restAPI) getQueue(r *http.Request, queueSID string) (store.Queue, error) {
	return getOwned(a, r, sid.Queue, queueSID, "queue", store.Store.GetQueue)
}

// fetchQueue serves GET Queues/{Sid}.json.
func (a *restAPI) fetchQueue(w http.ResponseWriter, r *http.Request, ids []string) error {
	q, err := a.getQueue(r, ids[0])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.toQueueJSON(q))
	return nil
}

// updateQueue serves POST Queues/{Sid}.json (FriendlyName, MaxSize).
func (a *restAPI) updateQueue(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	q, err := a.getQueue(r, ids[0])
	if err != nil {
		return err
	}
	name, size, err := queueParams(form, false)
	if err != nil {
		return err
	}
	q, err = a.opts.Store.UpdateQueue(r.Context(), store.Queue{SID: q.SID, FriendlyName: name, MaxSize: size})
	if err != nil {
		return duplicateName(r, name, err)
	}
	writeJSON(w, http.StatusOK, a.toQueueJSON(q))
	return nil
}

// deleteQueue serves DELETE Queues/{Sid}.json; a queue with calls waiting
// is refused (400).
func (a *restAPI) deleteQueue(w http.ResponseWriter, r *http.Request, ids []string) error {
	q, err := a.getQueue(r, ids[0])
	if err != nil {
		return err
	}
	if a.opts.Queues != nil {
		if n, _ := a.opts.Queues.Size(q.SID); n > 0 {
			return badRequest(codeConflict, "Queue %s has %d calls waiting: dequeue them before deleting it", q.SID, n)
		}
	}
	if err := a.opts.Store.DeleteQueue(r.Context(), q.SID); err != nil {
		return storeError(r, "delete queue", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listQueues serves GET Queues.json.
func (a *restAPI) listQueues(w http.ResponseWriter, r *http.Request, _ []string) error {
	_, p, err := a.listRequest(r)
	if err != nil {
		return err
	}
	f := store.QueueFilter{AccountSID: a.opts.AccountSID}
	return listOwned(w, r, p, "queues", func(ctx context.Context, pg store.Page) ([]store.Queue, store.PageToken, error) {
		return a.opts.Store.ListQueues(ctx, f, pg)
	}, a.toQueueJSON)
}

// liveQueue loads the queue and checks that live queue control is wired.
func (a *restAPI) liveQueue(r *http.Request, queueSID string) (store.Queue, error) {
	q, err := a.getQueue(r, queueSID)
	if err != nil {
		return store.Queue{}, err
	}
	if a.opts.Queues == nil {
		return store.Queue{}, errUnavailable("live queue membership")
	}
	return q, nil
}

// listMembers serves GET Queues/{Sid}/Members.json, front first. The list
// is live state, so Page counts pages from the front (PageToken is not
// used).
func (a *restAPI) listMembers(w http.ResponseWriter, r *http.Request, ids []string) error {
	q, err := a.liveQueue(r, ids[0])
	if err != nil {
		return err
	}
	p, err := parsePage(r.URL.Query())
	if err != nil {
		return err
	}
	members := a.opts.Queues.Members(q.SID)
	start := min(p.page*p.size, len(members))
	end := min(start+p.size, len(members))
	out := make([]memberJSON, 0, end-start)
	for i := start; i < end; i++ {
		out = append(out, a.toMemberJSON(q.SID, members[i], i+1))
	}
	var next store.PageToken
	if end < len(members) {
		next = store.PageToken(fmt.Sprintf("PA%d", end))
	}
	listPage(w, r, "queue_members", out, len(out), p, next)
	return nil
}

// fetchMember serves GET Queues/{Sid}/Members/{CallSid|Front}.json.
func (a *restAPI) fetchMember(w http.ResponseWriter, r *http.Request, ids []string) error {
	q, err := a.liveQueue(r, ids[0])
	if err != nil {
		return err
	}
	who := ids[1]
	if who != FrontMember && !sid.Valid(sid.Call, who) {
		return notFound(r)
	}
	for i, m := range a.opts.Queues.Members(q.SID) {
		if who == FrontMember || m.CallSID == who {
			writeJSON(w, http.StatusOK, a.toMemberJSON(q.SID, m, i+1))
			return nil
		}
	}
	return notFound(r)
}

// dequeueMember serves POST Queues/{Sid}/Members/{CallSid|Front}.json with
// Url (absolute, required) and Method: the call leaves the queue and runs
// that TwiML.
func (a *restAPI) dequeueMember(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	target := form.Get("Url")
	if target == "" {
		return badRequest(codeInvalidURL, "Url parameter is required")
	}
	if err := absoluteURL("Url", target); err != nil {
		return err
	}
	method, err := httpMethod("Method", form.Get("Method"))
	if err != nil {
		return err
	}
	q, err := a.liveQueue(r, ids[0])
	if err != nil {
		return err
	}
	who := ids[1]
	if who != FrontMember && !sid.Valid(sid.Call, who) {
		return notFound(r)
	}
	m, err := a.opts.Queues.Dequeue(r.Context(), q.SID, who, target, method)
	if errors.Is(err, ErrNoMember) {
		return notFound(r)
	}
	if err != nil {
		return fmt.Errorf("dequeue %s from %s: %w", who, q.SID, err)
	}
	writeJSON(w, http.StatusOK, a.toMemberJSON(q.SID, m, 1))
	return nil
}
