package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/voxgate/voxgate/config"
	"github.com/voxgate/voxgate/ivr"
	"github.com/voxgate/voxgate/queue"
	"github.com/voxgate/voxgate/sip"
)

// sipDialer places the engine's outbound legs over SIP.
type sipDialer struct {
	srv     *sip.Server
	queues  *queue.Manager
	cluster *clusterWiring // nil on one node
}

// Dial implements ivr.Dialer.
func (d *sipDialer) Dial(ctx context.Context, req ivr.DialRequest) (ivr.Call, error) {
	if name, ok := strings.CutPrefix(req.To, "client:"); ok {
		if uri, headers, ok := d.cluster.remoteAgent(ctx, name, req.Headers[ivr.TaskHeader]); ok {
			// The agent's page is connected to another node: an internal
			// leg rings it there.
			req.To, req.Headers = uri, mergeHeaders(req.Headers, headers)
		} else if !d.srv.Registered(name) {
			return ringAgent(ctx, d.queues, req)
		} else {
			// A registered SIP phone (users[]) rather than a browser agent.
			req.To = d.srv.UserURI(name)
		}
	}
	c, err := d.srv.Dial(ctx, sip.DialRequest{
		CallSID:   req.CallSID,
		To:        req.To,
		From:      req.From,
		Username:  req.Username,
		Password:  req.Password,
		Headers:   req.Headers,
		Timeout:   req.Timeout,
		OnRinging: req.OnRinging,
		// answerOnBridge relays the party's early media to the caller
		OnEarlyMedia: req.OnEarlyMedia,
	})
	if err != nil {
		var de *sip.DialError
		if errors.As(err, &de) {
			return nil, &ivr.DialFailure{Status: de.Status, Code: de.Code, Reason: de.Reason}
		}
		return nil, &ivr.DialFailure{Status: "failed", Reason: err.Error()}
	}
	return c, nil
}

// sipTrunks converts the configured trunks.
func sipTrunks(in []config.Trunk) ([]sip.Trunk, error) {
	out := make([]sip.Trunk, 0, len(in))
	for _, t := range in {
		prefixes, err := t.AllowedPrefixes()
		if err != nil {
			return nil, fmt.Errorf("trunk %q: allowed_ips: %w", t.Name, err)
		}
		codecs, err := sip.ParseCodecs(t.Codecs)
		if err != nil {
			return nil, fmt.Errorf("trunk %q: codecs: %w", t.Name, err)
		}
		out = append(out, sip.Trunk{
			Codecs: codecs,
			Name:   t.Name, Host: t.Host, Transport: t.Transport,
			Username: t.Username, Password: t.Password,
			CallerID: t.CallerID, NumberPrefix: t.NumberPrefix,
			AllowedIPs:      prefixes,
			InboundUsername: t.InboundUsername, InboundPassword: t.InboundPassword,
			SRTP: t.SRTP, TLSCAFile: t.TLSCAFile, Register: t.Register, LateOffer: t.LateOffer,
		})
	}
	return out, nil
}

// sipUsers converts the configured phones.
func sipUsers(in []config.User) []sip.User {
	out := make([]sip.User, 0, len(in))
	for _, u := range in {
		out = append(out, sip.User{Username: u.Username, Password: u.Password, CallerID: u.CallerID, SRTP: u.SRTP})
	}
	return out
}

// mergeHeaders returns a's headers with b's added.
func mergeHeaders(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
