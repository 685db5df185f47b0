package ivr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/voxgate/voxgate/ivr/webhook"
	"github.com/voxgate/voxgate/media"
	"github.com/voxgate/voxgate/media/audio"
	"github.com/voxgate/voxgate/twiml"
)

// maxConferenceAudio caps the audio a wait, hold or announce document
// renders to (it is looped): 10 minutes.
const maxConferenceAudio = 10 * 60 * media.SampleRate

// twilioHoldMusic is the start of Twilio's default waitUrl (the twimlets
// hold music): Voxgate plays its own hold music for it.
const twilioHoldMusic = "twimlets.com/holdmusic"

// HoldMusic is Voxgate's own hold music (conference.Options.HoldMusic).
func HoldMusic() []int16 { return holdMusic() }

// ConferenceAudio fetches a conference's hold or announce URL — TwiML
// with <Play>, <Say> and <Pause>, or an audio file — and renders it to 8
// kHz audio (for conference.Options.Resolve). Twilio's default hold music
// URL gives Voxgate's own.
func (e *Engine) ConferenceAudio(ctx context.Context, target, method string) ([]int16, error) {
	c := webhook.NewClient(webhook.Options{
		AuthToken: e.cfg.AuthToken, Timeout: e.cfg.WebhookTimeout, HTTPClient: e.cfg.HTTPClient,
		UserAgent: e.cfg.UserAgent, Logger: e.log, Observe: e.cfg.WebhookObserve,
	})
	return e.renderAudioDoc(ctx, c, target, method, url.Values{"AccountSid": {e.cfg.AccountSID}})
}

// renderAudioDoc is ConferenceAudio with the client and parameters of a
// call.
func (e *Engine) renderAudioDoc(ctx context.Context, c *webhook.Client, target, method string, params url.Values) ([]int16, error) {
	if strings.Contains(target, twilioHoldMusic) {
		return holdMusic(), nil
	}
	if method == "" {
		method = http.MethodPost
	}
	res, err := c.Fetch(ctx, webhook.Request{URL: target, Method: method, Params: params})
	if err != nil {
		return nil, err
	}
	if res.Kind == webhook.Audio {
		return audio.Decode(res.Body, res.ContentType)
	}
	doc, _, err := twiml.Parse(res.Body)
	if err != nil {
		return nil, fmt.Errorf("TwiML from %s: %w", res.URL, err)
	}
	var pcm []int16
	for _, v := range doc.Verbs {
		part, err := e.renderAudioVerb(ctx, res.URL, v)
		if err != nil {
			return nil, err
		}
		for range max(1, loops(v)) {
			if len(pcm)+len(part) > maxConferenceAudio {
				return pcm, nil
			}
			pcm = append(pcm, part...)
		}
	}
	return pcm, nil
}

// loops is how many times v asks to be played (loop="0" plays once here:
// the whole document loops).
func loops(v twiml.Verb) int {
	switch v := v.(type) {
	case *twiml.Play:
		if v.Loop < twiml.MaxLoop {
			return v.Loop
		}
	case *twiml.Say:
		if v.Loop < twiml.MaxLoop {
			return v.Loop
		}
	}
	return 1
}

// renderAudioVerb renders one verb of a wait, hold or announce document.
func (e *Engine) renderAudioVerb(ctx context.Context, base string, v twiml.Verb) ([]int16, error) {
	switch v := v.(type) {
	case *twiml.Play:
		if v.URL == "" {
			return nil, nil
		}
		u, err := webhook.ResolveURL(base, v.URL)
		if err != nil {
			return nil, err
		}
		return e.cfg.Audio.Fetch(ctx, u)
	case *twiml.Say:
		pcm, _, err := e.cfg.Speaker.Render(ctx, v.Text, v.Voice, v.Language)
		return pcm, err
	case *twiml.Pause:
		return make([]int16, max(1, v.Length)*media.SampleRate), nil
	}
	return nil, &verbError{code: 13238, err: errors.New("<" + v.Name() + "> is not allowed in a conference's wait, hold or announce URL")}
}
