package webhook

import (
	"errors"
	"net/url"
	"strings"
)

// ResolveURL resolves ref against base, the URL of the current document,
// following RFC 3986. An absolute ref is returned as is (after checking
// it); a relative ref needs a base. Failures are *Error with code 11100.
func ResolveURL(base, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	r, err := url.Parse(ref)
	if err != nil {
		return "", invalidURL(ref, err)
	}
	if r.IsAbs() {
		if err := checkAbsolute(r); err != nil {
			return "", invalidURL(ref, err)
		}
		return r.String(), nil
	}
	if base == "" {
		return "", invalidURL(ref, errors.New("relative URL with no base document"))
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", invalidURL(base, err)
	}
	if err := checkAbsolute(b); err != nil {
		return "", invalidURL(base, err)
	}
	u := b.ResolveReference(r)
	u.Fragment, u.RawFragment = r.Fragment, r.RawFragment // RFC 3986 §5.2.2: never the base's
	return u.String(), nil
}

// parseTarget parses a request URL: it must be absolute http(s). It
// returns the URL without its fragment and the fragment itself.
func parseTarget(raw string) (*url.URL, string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, "", invalidURL(raw, err)
	}
	if err := checkAbsolute(u); err != nil {
		return nil, "", invalidURL(raw, err)
	}
	fragment := u.Fragment
	u.Fragment, u.RawFragment = "", ""
	return u, fragment, nil
}

// checkAbsolute accepts only http and https URLs with a host.
func checkAbsolute(u *url.URL) error {
	switch {
	case u.Scheme == "":
		return errors.New("relative URL with no base document")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("scheme must be http or https")
	case u.Host == "":
		return errors.New("missing host")
	}
	return nil
}

// withParams returns u with params appended to its query (after any
// existing query, joined with '&'), as Twilio does for GET.
func withParams(u *url.URL, params url.Values) *url.URL {
	if len(params) == 0 {
		return u
	}
	v := *u
	switch {
	case v.RawQuery == "":
		v.RawQuery = params.Encode()
	case strings.HasSuffix(v.RawQuery, "&"):
		v.RawQuery += params.Encode()
	default:
		v.RawQuery += "&" + params.Encode()
	}
	v.ForceQuery = false
	return &v
}

func invalidURL(raw string, err error) *Error {
	return &Error{Code: CodeInvalidURL, URL: raw, Err: err}
}
