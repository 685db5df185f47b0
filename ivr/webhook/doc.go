// Package webhook makes the HTTP requests a Twilio-compatible voice platform
// sends to the customer's application: TwiML fetches (the initial request,
// action URLs, Redirect, waitUrl…) and fire-and-forget callbacks (call
// progress, recordings), the way Twilio makes them.
//
// Every request is signed with X-Twilio-Signature (see [Signature]) over the
// exact URL requested and, for POST, the form parameters. A [Client] belongs
// to one call: it keeps the cookies the application sets for the rest of
// that call, like a browser, and never shares them with other calls.
//
// Usage:
//
//	c := webhook.NewClient(webhook.Options{AuthToken: token})
//	res, err := c.Fetch(ctx, webhook.Request{URL: voiceURL, Params: params})
//	if err != nil {
//		var we *webhook.Error
//		errors.As(err, &we) // we.Code is Twilio's error code, e.g. 11200
//	}
//	switch res.Kind {
//	case webhook.TwiML: // parse res.Body
//	case webhook.Audio: // play it, then hang up
//	case webhook.PlainText: // try TwiML, else speak it
//	}
//	next, err := webhook.ResolveURL(res.URL, "gather-done") // relative action URL
//
// Request mechanics follow Twilio: POST sends the parameters as an
// application/x-www-form-urlencoded body; GET appends them to the URL's
// query. Up to 10 redirects are followed; 301, 302 and 303 turn a POST into a
// GET without the parameters, as browsers do. A URL fragment is never sent:
// it carries Twilio's "connection overrides", of which ct (connect timeout,
// ms), rt (time to the first response byte, ms), tt (total time, ms), rc
// (retries, at most 5) and rp (retry policy: a comma list of ct, rt, 4xx,
// 5xx, all) are honoured. The defaults are ct=5000, rt=tt=Options.Timeout
// (15 s), rc=1 and rp=ct: a connection that cannot be made in time is tried
// once more.
//
// Failures are returned as *[Error] carrying Twilio's error code (11100,
// 11200–11237, 11750, 12300), which the engine logs and hands to the
// fallback URL as ErrorCode.
package webhook
