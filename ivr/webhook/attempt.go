package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"
)

// attempt sends one HTTP request, with the connect (ct) and first-byte (rt)
// timers of ov running on it. The response body, if any, must be closed by
// the caller; closing it releases the attempt's context.
func (c *Client) attempt(ctx context.Context, method, wireURL, body, signature, token string, ov overrides) (*http.Response, error) {
	actx, cancel := context.WithCancelCause(ctx)
	timers := &phaseTimers{cancel: cancel, connect: ov.connect, read: ov.read}
	actx = httptrace.WithClientTrace(actx, timers.trace())

	var rd io.Reader
	if method == http.MethodPost {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, wireURL, rd)
	if err != nil {
		cancel(nil)
		return nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	}
	req.Header.Set("X-Twilio-Signature", signature)
	req.Header.Set("I-Twilio-Idempotency-Token", token)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "*/*")

	resp, err := c.http.Do(req)
	timers.stop()
	if err != nil {
		err = withCause(actx, err)
		cancel(nil)
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: func() { cancel(nil) }}
	return resp, nil
}

// withCause unwraps the *url.Error of http.Client.Do (its text repeats
// the URL) and, when ctx was cancelled with a cause (one of the timeouts),
// makes sure the cause is part of the error.
func withCause(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
		err = fmt.Errorf("%w (%w)", cause, err)
	}
	return err
}

// cancelOnClose releases an attempt's context once its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// phaseTimers cancel one attempt when the connection is not made within
// connect, or no response byte arrives within read of the request being
// written.
type phaseTimers struct {
	cancel        context.CancelCauseFunc
	connect, read time.Duration

	mu                      sync.Mutex
	connectTimer, readTimer *time.Timer
	gotFirstByte, stopped   bool
}

func (p *phaseTimers) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if !p.stopped && p.connectTimer == nil {
				p.connectTimer = time.AfterFunc(p.connect, func() { p.cancel(errConnectTimeout) })
			}
		},
		GotConn: func(httptrace.GotConnInfo) {
			p.mu.Lock()
			defer p.mu.Unlock()
			stopTimer(p.connectTimer)
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if !p.stopped && !p.gotFirstByte && p.readTimer == nil {
				p.readTimer = time.AfterFunc(p.read, func() { p.cancel(errReadTimeout) })
			}
		},
		GotFirstResponseByte: func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.gotFirstByte = true
			stopTimer(p.readTimer)
		},
	}
}

// stop disarms both timers for good; the body is read under the total
// timeout only.
func (p *phaseTimers) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	stopTimer(p.connectTimer)
	stopTimer(p.readTimer)
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}
