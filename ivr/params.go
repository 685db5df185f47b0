package ivr

import (
	"net/url"
	"sort"
	"strings"
)

// APIVersion is the Twilio API version Voxgate speaks.
const APIVersion = "2010-04-01"

// standardParams are the parameters of every TwiML request (twiml-voice.md §3.2).
func standardParams(accountSID string, info CallInfo, status string) url.Values {
	v := url.Values{}
	v.Set("CallSid", info.SID)
	v.Set("AccountSid", accountSID)
	v.Set("From", info.From)
	v.Set("To", info.To)
	v.Set("Caller", info.From)
	v.Set("Called", info.To)
	v.Set("CallStatus", status)
	v.Set("ApiVersion", APIVersion)
	v.Set("Direction", info.Direction)
	for _, geo := range []string{"FromCity", "FromState", "FromZip", "FromCountry", "ToCity", "ToState", "ToZip", "ToCountry",
		"CallerCity", "CallerState", "CallerZip", "CallerCountry", "CalledCity", "CalledState", "CalledZip", "CalledCountry"} {
		v.Set(geo, "")
	}
	if info.ForwardedFrom != "" {
		v.Set("ForwardedFrom", info.ForwardedFrom)
	}
	if info.ParentSID != "" {
		v.Set("ParentCallSid", info.ParentSID)
	}
	if info.SIPCallID != "" {
		v.Set("SipCallId", info.SIPCallID)
	}
	if info.SIPSourceIP != "" {
		v.Set("SipSourceIp", info.SIPSourceIP)
	}
	names := make([]string, 0, len(info.SIPHeaders))
	for n := range info.SIPHeaders {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v.Set("SipHeader_"+strings.ToLower(n), info.SIPHeaders[n])
	}
	return v
}

// merge returns base with extra's keys set over it (neither is modified).
func merge(base url.Values, extra url.Values) url.Values {
	out := make(url.Values, len(base)+len(extra))
	for k, vs := range base {
		out[k] = append([]string(nil), vs...)
	}
	for k, vs := range extra {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
