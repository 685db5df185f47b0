package webhook

import (
	"context"
	"errors"
	"time"
)

// Outcome describes one finished webhook request, redirects and retries
// included, for metrics (Options.Observe).
type Outcome struct {
	// Notify is true for a fire-and-forget callback (Client.Notify),
	// false for a document fetch (Client.Fetch).
	Notify bool
	// Method is the HTTP method asked for (GET or POST).
	Method string
	// Duration is from the start of the first attempt to the end of the
	// body (or the failure).
	Duration time.Duration
	// Code is the Twilio error code when the request failed (11200,
	// 11205, …), 0 when it succeeded.
	Code int
	// StatusCode is the final HTTP status, 0 when no response came.
	StatusCode int
	// Canceled is true when the caller's context ended first (the call
	// hung up meanwhile): a failure, but not the application's.
	Canceled bool
}

// observe reports a finished request to Options.Observe.
func (c *Client) observe(ctx context.Context, notify bool, method string, start time.Time, res *Response, err error) {
	if c.onDone == nil {
		return
	}
	o := Outcome{Notify: notify, Method: method, Duration: time.Since(start)}
	if o.Method == "" {
		o.Method = "POST"
	}
	if res != nil {
		o.StatusCode = res.StatusCode
	}
	if err != nil {
		o.Code = CodeRetrievalFailure
		var we *Error
		if errors.As(err, &we) {
			o.Code, o.StatusCode = we.Code, we.StatusCode
		}
		o.Canceled = errors.Is(ctx.Err(), context.Canceled)
	}
	c.onDone(o)
}
