package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/voxgate/voxgate/messaging"
	"github.com/voxgate/voxgate/store"
)

// MessageControl is the messaging engine as the Messages resource uses it
// (*messaging.Service implements it).
type MessageControl interface {
	Send(ctx context.Context, r messaging.SendRequest) (store.Message, error)
	Get(ctx context.Context, sid string) (store.Message, error)
	List(ctx context.Context, f store.MessageFilter, p store.Page) ([]store.Message, store.PageToken, error)
	Redact(ctx context.Context, sid string) (store.Message, error)
	Cancel(ctx context.Context, sid string) (store.Message, error)
	Delete(ctx context.Context, sid string) error
}

// messageRoutes are the Messages resource's routes.
func (a *restAPI) messageRoutes() []route {
	return []route{
		{pattern: split("Messages.json"), methods: map[string]restHandler{http.MethodGet: a.listMessages, http.MethodPost: a.createMessage}},
		{pattern: split("Messages/{}.json"), methods: map[string]restHandler{http.MethodGet: a.fetchMessage,
			http.MethodPost: a.updateMessage, http.MethodDelete: a.deleteMessage}},
	}
}

// unsupportedCreateMessageParams are refused rather than ignored.
var unsupportedCreateMessageParams = []string{"ContentSid", "ContentVariables", "SendAt", "ScheduleType", "MessagingServiceSid"}

// messageJSON is Twilio's Message resource; every key is always present.
type messageJSON struct {
	AccountSID          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         *string           `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         *string           `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                string            `json:"from"`
	MessagingServiceSID *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	SID                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

func (a *restAPI) toMessageJSON(m store.Message) messageJSON {
	uri := a.accountPath() + "/Messages/" + m.SID
	numMedia := 0
	if m.MediaURLs != "" {
		numMedia = len(strings.Split(m.MediaURLs, "\n"))
	}
	out := messageJSON{
		AccountSID: m.AccountSID, APIVersion: apiVersion, Body: m.Body, DateCreated: rfc2822(m.DateCreated),
		DateSent: rfc2822(m.DateSent), DateUpdated: rfc2822(m.DateUpdated), Direction: m.Direction, From: m.From,
		NumMedia: strconv.Itoa(numMedia), NumSegments: strconv.Itoa(m.NumSegments), PriceUnit: "USD", SID: m.SID,
		Status: m.Status, To: m.To, URI: uri + ".json",
		SubresourceURIs: map[string]string{"media": uri + "/Media.json"},
	}
	if m.ErrorCode != 0 {
		code := m.ErrorCode
		out.ErrorCode, out.ErrorMessage = &code, nullable(m.ErrorMessage)
	}
	return out
}

// messageError turns a *messaging.Error into the API's error.
func messageError(err error) error {
	var me *messaging.Error
	if errors.As(err, &me) {
		return &Error{Status: me.Status, Code: me.Code, Message: me.Message}
	}
	return err
}

func (a *restAPI) requireMessages() error {
	if a.opts.Messages == nil {
		return errUnavailable("messaging (no messaging trunk configured)")
	}
	return nil
}

// createMessage serves POST Messages.json.
func (a *restAPI) createMessage(w http.ResponseWriter, r *http.Request, _ []string) error {
	if err := a.requireMessages(); err != nil {
		return err
	}
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	if err := rejectUnsupported(form, unsupportedCreateMessageParams); err != nil {
		return err
	}
	method, err := httpMethod("StatusCallbackMethod", form.Get("StatusCallbackMethod"))
	if err != nil {
		return err
	}
	m, err := a.opts.Messages.Send(r.Context(), messaging.SendRequest{
		To: form.Get("To"), From: form.Get("From"), Body: form.Get("Body"), Media: form["MediaUrl"],
		StatusCallback: form.Get("StatusCallback"), StatusCallbackMethod: method,
	})
	if err != nil {
		return messageError(err)
	}
	writeJSON(w, http.StatusCreated, a.toMessageJSON(m))
	return nil
}

// fetchMessage serves GET Messages/{Sid}.json.
func (a *restAPI) fetchMessage(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireMessages(); err != nil {
		return err
	}
	m, err := a.opts.Messages.Get(r.Context(), ids[0])
	if err != nil {
		return messageError(err)
	}
	writeJSON(w, http.StatusOK, a.toMessageJSON(m))
	return nil
}

// updateMessage serves POST Messages/{Sid}.json: Body="" redacts,
// Status=canceled cancels.
func (a *restAPI) updateMessage(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireMessages(); err != nil {
		return err
	}
	form, err := parseForm(w, r)
	if err != nil {
		return err
	}
	var m store.Message
	switch {
	case form.Has("Body"):
		if form.Get("Body") != "" {
			return badRequest(codeUnsupportedParam, "Body can only be updated to an empty string (redaction)")
		}
		m, err = a.opts.Messages.Redact(r.Context(), ids[0])
	case form.Get("Status") == "canceled":
		m, err = a.opts.Messages.Cancel(r.Context(), ids[0])
	case form.Has("Status"):
		return badRequest(codeUnsupportedParam, "Status can only be updated to canceled")
	default:
		m, err = a.opts.Messages.Get(r.Context(), ids[0])
	}
	if err != nil {
		return messageError(err)
	}
	writeJSON(w, http.StatusOK, a.toMessageJSON(m))
	return nil
}

// deleteMessage serves DELETE Messages/{Sid}.json.
func (a *restAPI) deleteMessage(w http.ResponseWriter, r *http.Request, ids []string) error {
	if err := a.requireMessages(); err != nil {
		return err
	}
	if err := a.opts.Messages.Delete(r.Context(), ids[0]); err != nil {
		return messageError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listMessages serves GET Messages.json with To, From and DateSent
// (DateSent<, DateSent>) filters, newest first.
func (a *restAPI) listMessages(w http.ResponseWriter, r *http.Request, _ []string) error {
	if err := a.requireMessages(); err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		return err
	}
	f := store.MessageFilter{To: q.Get("To"), From: q.Get("From")}
	if f.DateSent, err = timeFilter(q, "DateSent"); err != nil {
		return err
	}
	msgs, next, err := a.opts.Messages.List(r.Context(), f, p.storePage())
	if err != nil {
		return storeError(r, "list messages", err)
	}
	out := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		out[i] = a.toMessageJSON(m)
	}
	listPage(w, r, "messages", out, len(out), p, next)
	return nil
}
