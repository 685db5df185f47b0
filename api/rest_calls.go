package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// Call creation limits and defaults (Twilio's).
const (
	defaultCallTimeout = 60 * time.Second
	maxCallTimeout     = 600 * time.Second
	maxSendDigits      = 32
)

// unsupportedCreateCallParams are documented POST Calls.json parameters
// this gateway does not implement; they are refused, not ignored.
var unsupportedCreateCallParams = []string{
	"ApplicationSid", "AsyncAmd", "AsyncAmdStatusCallback", "AsyncAmdStatusCallbackMethod",
	"Byoc", "CallReason", "CallToken", "CallerId", "ClientNotificationUrl",
	"MachineDetection", "MachineDetectionSilenceTimeout", "MachineDetectionSpeechEndThreshold",
	"MachineDetectionSpeechThreshold", "MachineDetectionTimeout", "Passports",
	"RecordingConfigurationId", "SipAuthPassword", "SipAuthUsername", "TimeLimit",
}

// unsupportedUpdateCallParams are documented POST Calls/{Sid}.json
// parameters this gateway does not implement.
var unsupportedUpdateCallParams = []string{
	"FallbackUrl", "FallbackMethod", "StatusCallback", "StatusCallbackMethod", "TimeLimit",
}

// statusCallbackEvents are the values StatusCallbackEvent accepts.
var statusCallbackEvents = map[string]bool{"initiated": true, "ringing": true, "answered": true, "completed": true}

// callJSON is Twilio's call resource.
type callJSON struct {
	SID             string            `json:"sid"`
	DateCreated     *string           `json:"date_created"`
	DateUpdated     *string           `json:"date_updated"`
	ParentCallSID   *string           `json:"parent_call_sid"`
	AccountSID      string            `json:"account_sid"`
	To              string            `json:"to"`
	ToFormatted     string            `json:"to_formatted"`
	From            string            `json:"from"`
	FromFormatted   string            `json:"from_formatted"`
	PhoneNumberSID  *string           `json:"phone_number_sid"`
	Status          string            `json:"status"`
	StartTime       *string           `json:"start_time"`
	EndTime         *string           `json:"end_time"`
	Duration        *string           `json:"duration"`
	Price           *string           `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	Direction       string            `json:"direction"`
	AnsweredBy      *string           `json:"answered_by"`
	APIVersion      string            `json:"api_version"`
	ForwardedFrom   *string           `json:"forwarded_from"`
	GroupSID        *string           `json:"group_sid"`
	CallerName      *string           `json:"caller_name"`
	QueueTime       string            `json:"queue_time"`
	TrunkSID        *string           `json:"trunk_sid"`
	URI             string            `json:"uri"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
}

// toCallJSON renders c. Only subresources this gateway serves are listed.
func (a *restAPI) toCallJSON(c store.Call) callJSON {
	base := a.accountPath() + "/Calls/" + c.SID
	var duration *string
	if c.Status.Ended() {
		d := strconv.Itoa(c.Duration)
		duration = &d
	}
	return callJSON{
		SID:             c.SID,
		DateCreated:     rfc2822(c.DateCreated),
		DateUpdated:     rfc2822(c.DateUpdated),
		ParentCallSID:   nullable(c.ParentCallSID),
		AccountSID:      c.AccountSID,
		To:              c.To,
		ToFormatted:     cmp.Or(c.ToFormatted, c.To),
		From:            c.From,
		FromFormatted:   cmp.Or(c.FromFormatted, c.From),
		Status:          string(c.Status),
		StartTime:       rfc2822(c.StartTime),
		EndTime:         rfc2822(c.EndTime),
		Duration:        duration,
		PriceUnit:       "USD",
		Direction:       c.Direction,
		AnsweredBy:      nullable(c.AnsweredBy),
		APIVersion:      apiVersion,
		ForwardedFrom:   nullable(c.ForwardedFrom),
		CallerName:      nullable(c.CallerName),
		QueueTime:       strconv.Itoa(c.QueueTime),
		TrunkSID:        nullable(c.TrunkSID),
		URI:             base + ".json",
		SubresourceURIs: map[string]string{"recordings": base + "/Recordings.json"},
	}
}

// createCall serves POST Calls.json.
func (a *restAPI) createCall(w http.ResponseWriter, r *http.Request, _ []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	p, err := parseCreateCall(form)
	if err != nil {
		return err
	}
	if err := a.requireStore(); err != nil {
		return err
	}
	if a.opts.Calls == nil {
		return errUnavailable("placing calls")
	}
	p.AccountSID = a.opts.AccountSID
	c, err := a.opts.Calls.Create(r.Context(), p)
	if err != nil {
		return fmt.Errorf("create call to %s: %w", p.To, err)
	}
	if c.SID == "" {
		return fmt.Errorf("create call to %s: controller returned a call without a SID", p.To)
	}
	writeJSON(w, http.StatusCreated, a.toCallJSON(c))
	return nil
}

// parseCreateCall validates POST Calls.json parameters.
func parseCreateCall(form url.Values) (CreateCallParams, error) {
	if err := rejectUnsupported(form, unsupportedCreateCallParams); err != nil {
		return CreateCallParams{}, err
	}
	p := CreateCallParams{
		To:             strings.TrimSpace(form.Get("To")),
		From:           strings.TrimSpace(form.Get("From")),
		URL:            form.Get("Url"),
		TwiML:          form.Get("Twiml"),
		FallbackURL:    form.Get("FallbackUrl"),
		StatusCallback: form.Get("StatusCallback"),
		SendDigits:     form.Get("SendDigits"),
	}
	if p.To == "" {
		return p, badRequest(codeNoTo, "A 'To' phone number is required.")
	}
	if err := checkTo(p.To); err != nil {
		return p, err
	}
	if p.From == "" {
		return p, badRequest(codeNoFrom, "A 'From' phone number is required.")
	}
	switch {
	case p.URL == "" && p.TwiML == "":
		return p, badRequest(codeInvalidURL, "Url parameter is required: give Url or Twiml.")
	case p.URL != "" && p.TwiML != "":
		return p, badRequest(codeCallsResource, "Give either Url or Twiml, not both.")
	case p.URL != "":
		if err := absoluteURL("Url", p.URL); err != nil {
			return p, err
		}
	default:
		if n := utf8.RuneCountInString(p.TwiML); n > maxTwiMLChars {
			return p, badRequest(codeTwiMLTooLong, "Twiml size exceeded maximum allowed value of %d characters (got %d)", maxTwiMLChars, n)
		}
	}
	var err error
	if p.Method, err = httpMethod("Method", form.Get("Method")); err != nil {
		return p, err
	}
	if p.FallbackURL != "" {
		if err := absoluteURL("FallbackUrl", p.FallbackURL); err != nil {
			return p, err
		}
	}
	if p.FallbackMethod, err = httpMethod("FallbackMethod", form.Get("FallbackMethod")); err != nil {
		return p, err
	}
	if p.StatusCallback != "" {
		if err := absoluteURL("StatusCallback", p.StatusCallback); err != nil {
			return p, err
		}
	}
	if p.StatusCallbackMethod, err = httpMethod("StatusCallbackMethod", form.Get("StatusCallbackMethod")); err != nil {
		return p, err
	}
	if p.StatusCallbackEvents, err = parseStatusCallbackEvents(form["StatusCallbackEvent"]); err != nil {
		return p, err
	}
	secs, err := parseInt("Timeout", form.Get("Timeout"), int(defaultCallTimeout/time.Second), codeInvalidTimeout)
	if err != nil {
		return p, err
	}
	if secs < 1 {
		return p, badRequest(codeInvalidTimeout, "Timeout must be a positive whole number of seconds, not %d", secs)
	}
	p.Timeout = min(time.Duration(secs)*time.Second, maxCallTimeout)
	if err := checkSendDigits(p.SendDigits); err != nil {
		return p, err
	}
	if p.Record, err = parseBool("Record", form.Get("Record"), false); err != nil {
		return p, err
	}
	// The Recording* parameters are checked even without Record=true (they
	// are then unused, as on Twilio). Trim defaults to trim-silence here.
	if p.Recording, err = parseRecordingParams(form, true); err != nil {
		return p, err
	}
	return p, nil
}

// parseStatusCallbackEvents reads StatusCallbackEvent given as repeated keys
// and/or space-separated lists; none means [completed].
func parseStatusCallbackEvents(values []string) ([]string, error) {
	var events []string
	for _, v := range values {
		for _, e := range strings.Fields(v) {
			if !statusCallbackEvents[e] {
				return nil, badRequest(codeCallsResource,
					"StatusCallbackEvent %q is not one of initiated, ringing, answered, completed", e)
			}
			if !slices.Contains(events, e) {
				events = append(events, e)
			}
		}
	}
	if len(events) == 0 {
		events = []string{"completed"}
	}
	return events, nil
}

// checkSendDigits checks SendDigits: at most 32 of 0-9 A-D # * w W.
func checkSendDigits(s string) error {
	if len(s) > maxSendDigits {
		return badRequest(codeInvalidDigits, "SendDigits is longer than %d characters", maxSendDigits)
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789ABCD#*wW", c) {
			return badRequest(codeInvalidDigits, "SendDigits may contain only 0-9, A-D, #, *, w and W, not %q", c)
		}
	}
	return nil
}

// getCall loads the call named by a path id (see getOwned).
func (a *restAPI) getCall(r *http.Request, callSID string) (store.Call, error) {
	return getOwned(a, r, sid.Call, callSID, "call", store.Store.GetCall)
}

// fetchCall serves GET Calls/{Sid}.json.
func (a *restAPI) fetchCall(w http.ResponseWriter, r *http.Request, ids []string) error {
	c, err := a.getCall(r, ids[0])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.toCallJSON(c))
	return nil
}

// updateCall serves POST Calls/{Sid}.json: Url(+Method) or Twiml redirects
// the live call, Status=completed|canceled hangs it up. It answers with the
// call as stored afterwards.
func (a *restAPI) updateCall(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	if err := rejectUnsupported(form, unsupportedUpdateCallParams); err != nil {
		return err
	}
	c, err := a.getCall(r, ids[0])
	if err != nil {
		return err
	}
	redirectURL, twiml, status := form.Get("Url"), form.Get("Twiml"), form.Get("Status")
	method, err := httpMethod("Method", form.Get("Method"))
	if err != nil {
		return err
	}
	given := 0
	for _, v := range []string{redirectURL, twiml, status} {
		if v != "" {
			given++
		}
	}
	if given > 1 {
		return badRequest(codeCallsResource, "Give only one of Url, Twiml and Status.")
	}
	switch {
	case redirectURL != "":
		err = absoluteURL("Url", redirectURL)
	case twiml != "":
		if n := utf8.RuneCountInString(twiml); n > maxTwiMLChars {
			err = badRequest(codeTwiMLTooLong, "Twiml size exceeded maximum allowed value of %d characters (got %d)", maxTwiMLChars, n)
		}
	case status != "":
		if status != string(store.CallCompleted) && status != string(store.CallCanceled) {
			err = badRequest(codeCallsResource, "Status must be completed or canceled, not %q", status)
		}
	}
	if err != nil {
		return err
	}
	if given == 0 {
		writeJSON(w, http.StatusOK, a.toCallJSON(c))
		return nil
	}
	if a.opts.Calls == nil {
		return errUnavailable("live call control")
	}
	if c.Status.Ended() {
		return notInProgress(c.SID)
	}
	switch {
	case redirectURL != "":
		err = a.opts.Calls.Redirect(r.Context(), c.SID, redirectURL, method)
	case twiml != "":
		err = a.opts.Calls.RedirectTwiML(r.Context(), c.SID, twiml)
	default:
		if status == string(store.CallCanceled) && c.Status != store.CallQueued && c.Status != store.CallRinging {
			return badRequest(codeNotInProgress, "Call %s is %s: only a queued or ringing call can be canceled; use Status=completed to hang up", c.SID, c.Status)
		}
		err = a.opts.Calls.Hangup(r.Context(), c.SID, status)
	}
	if errors.Is(err, ErrNotLive) {
		return notInProgress(c.SID)
	}
	if err != nil {
		return fmt.Errorf("update call %s: %w", c.SID, err)
	}
	if c, err = a.getCall(r, c.SID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.toCallJSON(c))
	return nil
}

// notInProgress is Twilio's 21220 for a call that is not live.
func notInProgress(callSID string) *Error {
	return badRequest(codeNotInProgress, "Call is not in-progress. Cannot redirect or end call %s.", callSID)
}

// deleteCall serves DELETE Calls/{Sid}.json: the record of an ended call.
func (a *restAPI) deleteCall(w http.ResponseWriter, r *http.Request, ids []string) error {
	c, err := a.getCall(r, ids[0])
	if err != nil {
		return err
	}
	if !c.Status.Ended() {
		return badRequest(codeNotInProgress, "Call %s is %s: end it before deleting its record.", c.SID, c.Status)
	}
	if err := a.opts.Store.DeleteCall(r.Context(), c.SID); err != nil {
		return storeError(r, "delete call", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listCalls serves GET Calls.json with Twilio's filters, newest first.
func (a *restAPI) listCalls(w http.ResponseWriter, r *http.Request, _ []string) error {
	q, p, err := a.listRequest(r)
	if err != nil {
		return err
	}
	f := store.CallFilter{
		AccountSID:    a.opts.AccountSID,
		To:            q.Get("To"),
		From:          q.Get("From"),
		ParentCallSID: q.Get("ParentCallSid"),
		Status:        store.CallStatus(q.Get("Status")),
	}
	if f.Status != "" && !f.Status.Valid() {
		return badRequest(codeCallsResource, "Status %q is not a call status", f.Status)
	}
	if f.StartTime, err = timeFilter(q, "StartTime"); err != nil {
		return err
	}
	if f.EndTime, err = timeFilter(q, "EndTime"); err != nil {
		return err
	}
	return listOwned(w, r, p, "calls", func(ctx context.Context, pg store.Page) ([]store.Call, store.PageToken, error) {
		return a.opts.Store.ListCalls(ctx, f, pg)
	}, a.toCallJSON)
}
