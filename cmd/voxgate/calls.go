package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/voxgate/voxgate/api"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/store"
)

// callControl places and steers calls for the REST API with the engine.
type callControl struct {
	ctx        context.Context // the server's: outbound calls end with it
	engine     *ivr.Engine
	store      store.Store
	accountSID string
	log        *slog.Logger
	wg         sync.WaitGroup // outbound calls running
}

// Create implements api.CallControl: it records the call as queued and
// starts dialling it in the background.
func (c *callControl) Create(ctx context.Context, p api.CreateCallParams) (store.Call, error) {
	callSID := sid.New(sid.Call)
	rec, err := c.store.PutCall(ctx, store.Call{
		SID: callSID, AccountSID: c.accountSID, From: p.From, To: p.To,
		FromFormatted: p.From, ToFormatted: p.To,
		Direction: ivr.OutboundAPI, Status: store.CallQueued,
	})
	if err != nil {
		return store.Call{}, err
	}
	if p.Record {
		c.log.Warn("api: Record=true is not supported yet; the call is not recorded", "call_sid", callSID)
	}
	c.log.Info("api: outbound call requested", "call_sid", callSID, "to", p.To, "from", p.From)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.engine.RunOutbound(c.ctx, ivr.OutboundCall{
			Info: ivr.CallInfo{SID: callSID, From: p.From, To: p.To},
			App: ivr.App{
				Twiml: p.TwiML, VoiceURL: p.URL, VoiceMethod: p.Method,
				FallbackURL: p.FallbackURL, FallbackMethod: p.FallbackMethod,
				StatusCallback: p.StatusCallback, StatusCallbackMethod: p.StatusCallbackMethod,
				StatusCallbackEvents: p.StatusCallbackEvents,
			},
			Timeout:    p.Timeout,
			SendDigits: p.SendDigits,
		})
	}()
	return rec, nil
}

func notLive(err error) error {
	if errors.Is(err, ivr.ErrNoSuchCall) {
		return api.ErrNotLive
	}
	return err
}

// Redirect implements api.CallControl.
func (c *callControl) Redirect(ctx context.Context, callSID, url, method string) error {
	return notLive(c.engine.Redirect(callSID, url, method))
}

// RedirectTwiML implements api.CallControl.
func (c *callControl) RedirectTwiML(ctx context.Context, callSID, twiml string) error {
	err := c.engine.RedirectTwiML(callSID, twiml)
	if err != nil && !errors.Is(err, ivr.ErrNoSuchCall) {
		return &api.Error{Status: 400, Code: 12100, Message: "Invalid TwiML: " + err.Error()}
	}
	return notLive(err)
}

// Hangup implements api.CallControl.
func (c *callControl) Hangup(ctx context.Context, callSID, status string) error {
	return notLive(c.engine.Hangup(callSID))
}

// wait waits for outbound calls to finish (after the server context ends).
func (c *callControl) wait() { c.wg.Wait() }
