package api

// The Conferences and Participants resources (twiml-voice.md §4.5), served
// from the live rooms of a conference.Manager.

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// conferenceRoutes are the Conferences and Participants endpoints.
func (a *restAPI) conferenceRoutes() []route {
	return []route{
		{pattern: split("Conferences.json"), methods: map[string]restHandler{http.MethodGet: a.listConferences}},
		{pattern: split("Conferences/{}.json"), methods: map[string]restHandler{http.MethodGet: a.fetchConference, http.MethodPost: a.updateConference}},
		{pattern: split("Conferences/{}/Recordings.json"), methods: map[string]restHandler{http.MethodGet: a.listConferenceRecordings,
			http.MethodPost: a.startConferenceRecording}},
		{pattern: split("Conferences/{}/Recordings/{}.json"), methods: map[string]restHandler{http.MethodGet: a.fetchConferenceRecording,
			http.MethodPost: a.updateConferenceRecording, http.MethodDelete: a.deleteConferenceRecording}},
		{pattern: split("Conferences/{}/Participants.json"), methods: map[string]restHandler{http.MethodGet: a.listParticipants, http.MethodPost: a.createParticipant}},
		{pattern: split("Conferences/{}/Participants/{}.json"), methods: map[string]restHandler{http.MethodGet: a.fetchParticipant,
			http.MethodPost: a.updateParticipant, http.MethodDelete: a.deleteParticipant}},
	}
}

// conferenceJSON is Twilio's conference resource.
type conferenceJSON struct {
	SID                     string            `json:"sid"`
	AccountSID              string            `json:"account_sid"`
	FriendlyName            string            `json:"friendly_name"`
	Status                  string            `json:"status"`
	Region                  string            `json:"region"`
	DateCreated             *string           `json:"date_created"`
	DateUpdated             *string           `json:"date_updated"`
	APIVersion              string            `json:"api_version"`
	ReasonConferenceEnded   *string           `json:"reason_conference_ended"`
	CallSIDEndingConference *string           `json:"call_sid_ending_conference"`
	URI                     string            `json:"uri"`
	SubresourceURIs         map[string]string `json:"subresource_uris"`
}

// participantJSON is Twilio's participant resource.
type participantJSON struct {
	AccountSID             string  `json:"account_sid"`
	CallSID                string  `json:"call_sid"`
	ConferenceSID          string  `json:"conference_sid"`
	Label                  *string `json:"label"`
	CallSIDToCoach         *string `json:"call_sid_to_coach"`
	Coaching               bool    `json:"coaching"`
	Muted                  bool    `json:"muted"`
	Hold                   bool    `json:"hold"`
	StartConferenceOnEnter bool    `json:"start_conference_on_enter"`
	EndConferenceOnExit    bool    `json:"end_conference_on_exit"`
	Status                 string  `json:"status"`
	QueueTime              *string `json:"queue_time"`
	DateCreated            *string `json:"date_created"`
	DateUpdated            *string `json:"date_updated"`
	URI                    string  `json:"uri"`
}

func (a *restAPI) toConferenceJSON(c conference.Info) conferenceJSON {
	base := a.accountPath() + "/Conferences/" + c.SID
	return conferenceJSON{
		SID: c.SID, AccountSID: c.AccountSID, FriendlyName: c.FriendlyName, Status: c.Status, Region: "us1",
		DateCreated: rfc2822(c.Created), DateUpdated: rfc2822(c.Updated), APIVersion: apiVersion,
		ReasonConferenceEnded: nullable(conference.ReasonCode(c.ReasonEnded)), CallSIDEndingConference: nullable(c.CallSIDEnding),
		URI:             base + ".json",
		SubresourceURIs: map[string]string{"participants": base + "/Participants.json", "recordings": base + "/Recordings.json"},
	}
}

func (a *restAPI) toParticipantJSON(p conference.ParticipantInfo, status string) participantJSON {
	coach := ""
	if p.Coaching {
		coach = p.CallSIDToCoach
	}
	return participantJSON{
		AccountSID: a.opts.AccountSID, CallSID: p.CallSID, ConferenceSID: p.ConferenceSID,
		Label: nullable(p.Label), CallSIDToCoach: nullable(coach), Coaching: p.Coaching,
		Muted: p.Muted, Hold: p.Hold, StartConferenceOnEnter: p.StartConferenceOnEnter,
		EndConferenceOnExit: p.EndConferenceOnExit, Status: status,
		DateCreated: rfc2822(p.Created), DateUpdated: rfc2822(p.Updated),
		URI: a.accountPath() + "/Conferences/" + p.ConferenceSID + "/Participants/" + p.CallSID + ".json",
	}
}

// requireConferences answers 501 without a conference manager.
func (a *restAPI) requireConferences() error {
	if a.opts.Conferences == nil {
		return &Error{Status: http.StatusNotImplemented, Code: codeInternal, Message: "Conferences are not configured on this gateway"}
	}
	return nil
}

// getRoom finds the room named by a path id: 404 for an unknown one or
// another account's.
func (a *restAPI) getRoom(r *http.Request, confSID string) (*conference.Room, error) {
	if err := a.requireConferences(); err != nil {
		return nil, err
	}
	room, ok := a.opts.Conferences.Room(confSID)
	if !ok || room.Info().AccountSID != a.opts.AccountSID {
		return nil, notFound(r)
	}
	return room, nil
}

// listConferences serves GET Conferences.json (FriendlyName, Status,
// DateCreated and DateUpdated filters): the store's records, which
// outlive restarts; the live rooms when there is no store.
func (a *restAPI) listConferences(w http.ResponseWriter, r *http.Request, _ []string) error {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	f := store.ConferenceFilter{AccountSID: a.opts.AccountSID, FriendlyName: q.Get("FriendlyName"), Status: q.Get("Status")}
	if f.DateCreated, err = timeFilter(q, "DateCreated"); err != nil {
		return err
	}
	if f.DateUpdated, err = timeFilter(q, "DateUpdated"); err != nil {
		return err
	}
	if a.opts.Store != nil {
		recs, next, err := a.opts.Store.ListConferences(r.Context(), f, p.storePage())
		if err != nil {
			return storeError(r, "list conferences", err)
		}
		out := make([]conferenceJSON, 0, len(recs))
		for _, c := range recs {
			out = append(out, a.toConferenceJSON(fromStoreConference(c)))
		}
		listPage(w, r, "conferences", out, len(out), p, next)
		return nil
	}
	if err := a.requireConferences(); err != nil {
		return err
	}
	var all []conferenceJSON
	for _, c := range a.opts.Conferences.Rooms(a.opts.AccountSID) {
		if (f.FriendlyName != "" && c.FriendlyName != f.FriendlyName) || (f.Status != "" && c.Status != f.Status) ||
			!f.DateCreated.Contains(c.Created) || !f.DateUpdated.Contains(c.Updated) {
			continue
		}
		all = append(all, a.toConferenceJSON(c))
	}
	out, next := pageOf(all, p)
	listPage(w, r, "conferences", out, len(out), p, next)
	return nil
}

func fromStoreConference(c store.Conference) conference.Info {
	return conference.Info{SID: c.SID, AccountSID: c.AccountSID, FriendlyName: c.FriendlyName, Status: c.Status,
		Created: c.DateCreated, Updated: c.DateUpdated, ReasonEnded: c.ReasonEnded, CallSIDEnding: c.CallSIDEnding}
}

// listConferenceRecordings serves GET Conferences/{Sid}/Recordings.json:
// the account's recordings with that ConferenceSid.
func (a *restAPI) listConferenceRecordings(w http.ResponseWriter, r *http.Request, ids []string) error {
	if !sid.Valid(conference.SIDPrefix, ids[0]) {
		return notFound(r)
	}
	if got := r.URL.Query().Get("ConferenceSid"); got != "" && got != ids[0] {
		return badRequest(codeUnsupportedParam, "ConferenceSid %s contradicts the path's conference %s", got, ids[0])
	}
	r = r.Clone(r.Context())
	q := r.URL.Query()
	q.Set("ConferenceSid", ids[0])
	r.URL.RawQuery = q.Encode()
	return a.listRecordingsWith(w, r, "", func(rec store.Recording) recordingJSON {
		out := a.toRecordingJSON(r, rec)
		out.URI = a.conferenceRecordingPath(ids[0], rec.SID)
		return out
	})
}

// pageOf cuts page p out of all (offset tokens "PA<start>").
func pageOf[T any](all []T, p pageRequest) ([]T, store.PageToken) {
	start := p.page * p.size
	if tok, ok := strings.CutPrefix(string(p.token), "PA"); ok {
		if n, err := strconv.Atoi(tok); err == nil && n >= 0 {
			start = n
		}
	}
	start = min(start, len(all))
	end := min(start+p.size, len(all))
	var next store.PageToken
	if end < len(all) {
		next = store.PageToken(fmt.Sprintf("PA%d", end))
	}
	return append(make([]T, 0, end-start), all[start:end]...), next
}

// fetchConference serves GET Conferences/{Sid}.json: the live room, or
// the store's record of an ended one.
func (a *restAPI) fetchConference(w http.ResponseWriter, r *http.Request, ids []string) error {
	if a.opts.Conferences != nil {
		if room, ok := a.opts.Conferences.Room(ids[0]); ok && room.Info().AccountSID == a.opts.AccountSID {
			writeJSON(w, http.StatusOK, a.toConferenceJSON(room.Info()))
			return nil
		}
	}
	if a.opts.Store == nil || !sid.Valid(conference.SIDPrefix, ids[0]) {
		return notFound(r)
	}
	c, err := a.opts.Store.GetConference(r.Context(), ids[0])
	if err != nil {
		return storeError(r, "get conference", err)
	}
	if c.AccountSID != a.opts.AccountSID {
		return notFound(r)
	}
	writeJSON(w, http.StatusOK, a.toConferenceJSON(fromStoreConference(c)))
	return nil
}

// updateConference serves POST Conferences/{Sid}.json: Status=completed
// ends it; AnnounceUrl plays to everyone.
func (a *restAPI) updateConference(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	room, err := a.getRoom(r, ids[0])
	if err != nil {
		return err
	}
	if u := form.Get("AnnounceUrl"); u != "" {
		if err := absoluteURL("AnnounceUrl", u); err != nil {
			return err
		}
		method, err := httpMethod("AnnounceMethod", form.Get("AnnounceMethod"))
		if err != nil {
			return err
		}
		if err := room.Announce(r.Context(), u, method); err != nil && !errors.Is(err, conference.ErrEnded) {
			return badRequest(codeInvalidURL, "AnnounceUrl: %v", err)
		}
	}
	switch st := form.Get("Status"); st {
	case "":
	case conference.StatusCompleted:
		if err := room.End("Conference ended via API", ""); err != nil && !errors.Is(err, conference.ErrEnded) {
			return err
		}
		<-room.Done()
	default:
		return badRequest(codeUnsupportedParam, "Status must be completed, not %q", st)
	}
	writeJSON(w, http.StatusOK, a.toConferenceJSON(room.Info()))
	return nil
}

// listParticipants serves GET Conferences/{Sid}/Participants.json
// (Muted, Hold and Coaching filters).
func (a *restAPI) listParticipants(w http.ResponseWriter, r *http.Request, ids []string) error {
	room, err := a.getRoom(r, ids[0])
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	var all []participantJSON
	for _, part := range room.Participants() {
		if !boolFilter(q, "Muted", part.Muted) || !boolFilter(q, "Hold", part.Hold) || !boolFilter(q, "Coaching", part.Coaching) {
			continue
		}
		all = append(all, a.toParticipantJSON(part, "connected"))
	}
	out, next := pageOf(all, p)
	listPage(w, r, "participants", out, len(out), p, next)
	return nil
}

// boolFilter reports whether v passes the list filter name (absent: any).
func boolFilter(q url.Values, name string, v bool) bool {
	f := q.Get(name)
	return f == "" || strings.EqualFold(f, strconv.FormatBool(v))
}

// fetchParticipant serves GET Conferences/{Sid}/Participants/{CallSid|Label}.json.
func (a *restAPI) fetchParticipant(w http.ResponseWriter, r *http.Request, ids []string) error {
	room, err := a.getRoom(r, ids[0])
	if err != nil {
		return err
	}
	part, err := room.Participant(ids[1])
	if err != nil {
		return notFound(r)
	}
	writeJSON(w, http.StatusOK, a.toParticipantJSON(part, "connected"))
	return nil
}

// updateParticipant serves POST Conferences/{Sid}/Participants/{CallSid|Label}.json:
// Muted, Hold, HoldUrl, HoldMethod, AnnounceUrl, AnnounceMethod, Coaching,
// CallSidToCoach, BeepOnExit, EndConferenceOnExit, WaitUrl, WaitMethod.
func (a *restAPI) updateParticipant(w http.ResponseWriter, r *http.Request, ids []string) error {
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	room, err := a.getRoom(r, ids[0])
	if err != nil {
		return err
	}
	var u conference.Update
	for _, b := range []struct {
		name string
		dst  **bool
	}{{"Muted", &u.Muted}, {"Hold", &u.Hold}, {"Coaching", &u.Coaching}, {"BeepOnExit", &u.BeepOnExit},
		{"EndConferenceOnExit", &u.EndConferenceOnExit}} {
		if form.Get(b.name) == "" {
			continue
		}
		v, err := parseBool(b.name, form.Get(b.name), false)
		if err != nil {
			return err
		}
		*b.dst = &v
	}
	if _, ok := form["CallSidToCoach"]; ok {
		c := form.Get("CallSidToCoach")
		u.CallSIDToCoach = &c
	}
	if _, ok := form["WaitUrl"]; ok {
		w := form.Get("WaitUrl")
		u.WaitURL, u.WaitMethod = &w, form.Get("WaitMethod")
	}
	for _, f := range []struct{ name, method string }{{"HoldUrl", "HoldMethod"}, {"AnnounceUrl", "AnnounceMethod"}, {"WaitUrl", "WaitMethod"}} {
		if v := form.Get(f.name); v != "" {
			if err := absoluteURL(f.name, v); err != nil {
				return err
			}
		}
		if _, err := httpMethod(f.method, form.Get(f.method)); err != nil {
			return err
		}
	}
	u.HoldURL, u.HoldMethod = form.Get("HoldUrl"), form.Get("HoldMethod")
	if u.HoldMethod == "" {
		u.HoldMethod = http.MethodGet // Twilio's default for HoldMethod (AnnounceMethod's is POST)
	}
	u.AnnounceURL, u.AnnounceMethod = form.Get("AnnounceUrl"), form.Get("AnnounceMethod")
	part, err := room.UpdateParticipant(r.Context(), ids[1], u)
	switch {
	case errors.Is(err, conference.ErrNotFound):
		return notFound(r)
	case err != nil:
		return badRequest(codeInvalidURL, "%v", err)
	}
	writeJSON(w, http.StatusOK, a.toParticipantJSON(part, "connected"))
	return nil
}

// deleteParticipant serves DELETE Conferences/{Sid}/Participants/{CallSid|Label}.json.
func (a *restAPI) deleteParticipant(w http.ResponseWriter, r *http.Request, ids []string) error {
	room, err := a.getRoom(r, ids[0])
	if err != nil {
		return err
	}
	if err := room.RemoveParticipant(ids[1]); err != nil {
		return notFound(r)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// createParticipant serves POST Conferences/{Sid|FriendlyName}/Participants.json:
// an outbound call (From, To, Timeout, StatusCallback…) whose TwiML joins
// the conference with the participant's parameters (Label, Muted, Beep,
// StartConferenceOnEnter, EndConferenceOnExit, WaitUrl, WaitMethod,
// MaxParticipants, Coaching, CallSidToCoach, ConferenceStatusCallback…,
// ConferenceRecord, ConferenceTrim, ConferenceRecordingStatusCallback…
// and ConferenceRecordingChannels, a Voxgate extension). Record and the
// Recording* parameters record the participant's own call.
func (a *restAPI) createParticipant(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireConferences(); err != nil {
		return err
	}
	if a.opts.Calls == nil {
		return &Error{Status: http.StatusNotImplemented, Code: codeInternal, Message: "Placing calls is not configured on this gateway"}
	}
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	if err := participantParams(form); err != nil {
		return err
	}
	name, confSID := ids[0], ""
	if sid.Valid(conference.SIDPrefix, ids[0]) {
		room, err := a.getRoom(r, ids[0])
		if err != nil {
			return err
		}
		info := room.Info()
		if info.Status == conference.StatusCompleted {
			return badRequest(codeConflict, "Conference %s has ended", ids[0])
		}
		name, confSID = info.FriendlyName, info.SID
	}
	call := url.Values{"Twiml": {participantTwiML(name, form)}}
	// The participant's own call: its status callbacks and its recording
	// (Record, RecordingChannels…: the participant's leg, not the room).
	for _, k := range []string{"To", "From", "Timeout", "StatusCallback", "StatusCallbackMethod",
		"Record", "RecordingChannels", "RecordingStatusCallback", "RecordingStatusCallbackMethod", "RecordingTrack", "Trim"} {
		if v := form.Get(k); v != "" {
			call.Set(k, v)
		}
	}
	call["StatusCallbackEvent"] = form["StatusCallbackEvent"]
	call["RecordingStatusCallbackEvent"] = form["RecordingStatusCallbackEvent"]
	params, err := parseCreateCall(call)
	if err != nil {
		return err
	}
	params.AccountSID = a.opts.AccountSID
	c, err := a.opts.Calls.Create(r.Context(), params)
	if err != nil {
		return fmt.Errorf("create participant call to %s: %w", params.To, err)
	}
	muted, _ := strconv.ParseBool(form.Get("Muted"))
	coaching, _ := strconv.ParseBool(form.Get("Coaching"))
	start, err := strconv.ParseBool(form.Get("StartConferenceOnEnter"))
	if err != nil {
		start = true
	}
	end, _ := strconv.ParseBool(form.Get("EndConferenceOnExit"))
	out := a.toParticipantJSON(conference.ParticipantInfo{
		CallSID: c.SID, ConferenceSID: confSID, Label: form.Get("Label"), Muted: muted, Coaching: coaching,
		CallSIDToCoach: form.Get("CallSidToCoach"), StartConferenceOnEnter: start, EndConferenceOnExit: end,
		Created: c.DateCreated, Updated: c.DateUpdated,
	}, "queued")
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// participantParams checks the participant parameters that become
// <Conference> attributes, so a bad one is a 400 here rather than a
// failed call later.
func participantParams(form url.Values) error {
	for _, name := range []string{"Muted", "StartConferenceOnEnter", "EndConferenceOnExit", "Coaching"} {
		if _, err := parseBool(name, form.Get(name), false); err != nil {
			return err
		}
	}
	switch b := form.Get("Beep"); b {
	case "", "true", "false", "onEnter", "onExit":
	default:
		return badRequest(codeUnsupportedParam, "Beep must be true, false, onEnter or onExit, not %q", b)
	}
	if c, _ := strconv.ParseBool(form.Get("Coaching")); c && !sid.Valid(sid.Call, form.Get("CallSidToCoach")) {
		return badRequest(codeUnsupportedParam, "Coaching needs the CallSidToCoach of a call")
	}
	if v := form.Get("WaitUrl"); v != "" {
		if err := absoluteURL("WaitUrl", v); err != nil {
			return err
		}
	}
	for _, name := range []string{"ConferenceStatusCallback", "ConferenceRecordingStatusCallback"} {
		if v := form.Get(name); v != "" {
			if err := absoluteURL(name, v); err != nil {
				return err
			}
		}
	}
	switch v := form.Get("ConferenceRecord"); v {
	case "", "true", "false", "record-from-start", "do-not-record":
	default:
		return badRequest(codeUnsupportedParam, "ConferenceRecord must be true, false, record-from-start or do-not-record, not %q", v)
	}
	switch v := form.Get("ConferenceRecordingChannels"); v {
	case "", "mono", "dual":
	default:
		return badRequest(codeUnsupportedParam, "ConferenceRecordingChannels must be mono or dual, not %q", v)
	}
	switch v := form.Get("ConferenceTrim"); v {
	case "", "trim-silence", "do-not-trim":
	default:
		return badRequest(codeUnsupportedParam, "ConferenceTrim must be trim-silence or do-not-trim, not %q", v)
	}
	return nil
}

// participantTwiML is the document that joins a participant's call to the
// conference called name with the REST parameters in form.
func participantTwiML(name string, form url.Values) string {
	attrs := []struct{ param, attr string }{
		{"Label", "participantLabel"}, {"Muted", "muted"}, {"Beep", "beep"},
		{"StartConferenceOnEnter", "startConferenceOnEnter"}, {"EndConferenceOnExit", "endConferenceOnExit"},
		{"WaitUrl", "waitUrl"}, {"WaitMethod", "waitMethod"}, {"MaxParticipants", "maxParticipants"},
		{"ConferenceStatusCallback", "statusCallback"}, {"ConferenceStatusCallbackMethod", "statusCallbackMethod"},
		{"JitterBufferSize", "jitterBufferSize"}, {"ConferenceTrim", "trim"},
		{"ConferenceRecordingStatusCallback", "recordingStatusCallback"},
		{"ConferenceRecordingStatusCallbackMethod", "recordingStatusCallbackMethod"},
		{"ConferenceRecordingChannels", "recordingChannels"},
	}
	var b strings.Builder
	b.WriteString("<Response><Dial><Conference")
	for _, at := range attrs {
		if v, ok := form[at.param]; ok {
			fmt.Fprintf(&b, ` %s="%s"`, at.attr, xmlEscape(v[0]))
		}
	}
	if v, ok := form["ConferenceRecord"]; ok {
		record := v[0]
		switch record {
		case "true":
			record = "record-from-start"
		case "false":
			record = "do-not-record"
		}
		fmt.Fprintf(&b, ` record="%s"`, xmlEscape(record))
	}
	for _, ev := range []struct{ param, attr string }{
		{"ConferenceStatusCallbackEvent", "statusCallbackEvent"},
		{"ConferenceRecordingStatusCallbackEvent", "recordingStatusCallbackEvent"},
	} {
		if v := form[ev.param]; len(v) > 0 {
			fmt.Fprintf(&b, ` %s="%s"`, ev.attr, xmlEscape(strings.Join(v, " ")))
		}
	}
	if coaching, _ := strconv.ParseBool(form.Get("Coaching")); coaching {
		fmt.Fprintf(&b, ` coach="%s"`, xmlEscape(form.Get("CallSidToCoach")))
	}
	b.WriteString(">" + xmlEscape(name) + "</Conference></Dial></Response>")
	return b.String()
}

// xmlEscape escapes s for XML text and double-quoted attributes.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
