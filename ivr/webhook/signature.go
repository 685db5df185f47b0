package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"
)

// Signature returns the X-Twilio-Signature value for a request: the
// Base64 HMAC-SHA1, keyed with authToken, of fullURL (exactly as requested,
// without fragment; for GET including the appended parameters) followed by
// each POST parameter's name and value, sorted by name. A repeated name
// contributes each of its distinct values in sorted order, as Twilio's
// validators expect. Pass nil params for GET.
func Signature(authToken, fullURL string, params url.Values) string {
	signed := []byte(fullURL)
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := slices.Clone(params[name])
		slices.Sort(values)
		for _, v := range slices.Compact(values) {
			signed = append(signed, name...)
			signed = append(signed, v...)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write(signed)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
