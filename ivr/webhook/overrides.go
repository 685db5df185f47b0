package webhook

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults for the connection overrides.
const (
	defaultConnectTimeout = 5 * time.Second
	defaultTotalTimeout   = 15 * time.Second
	defaultRetries        = 1
	maxRetries            = 5
)

// retryOn is a set of failure classes worth another attempt (rp).
type retryOn uint8

const (
	retryConnect retryOn = 1 << iota // ct: the connection could not be made in time
	retryRead                        // rt: no response within rt
	retry4xx                         // a 4xx status
	retry5xx                         // a 5xx status
	retryAll     = retryConnect | retryRead | retry4xx | retry5xx
)

// overrides are the timeouts and retry policy of one request.
type overrides struct {
	connect time.Duration // ct
	read    time.Duration // rt: request written to first response byte
	total   time.Duration // tt: the whole exchange, redirects and retries included
	retries int           // rc
	retryOn retryOn       // rp
}

// defaultOverrides are the overrides of a URL without fragment.
func defaultOverrides(total time.Duration) overrides {
	return overrides{
		connect: defaultConnectTimeout,
		read:    total,
		total:   total,
		retries: defaultRetries,
		retryOn: retryConnect,
	}
}

// parseOverrides applies the connection overrides found in a URL fragment
// ("ct=1000&rt=2000&tt=3000&rc=1&rp=ct,5xx") to o. A fragment that is not
// an override list is ignored. Bad values are left at their defaults and
// reported in problems, so a typo never fails a call.
func parseOverrides(fragment string, o overrides) (_ overrides, problems []string) {
	if fragment == "" {
		return o, nil
	}
	q, err := url.ParseQuery(fragment)
	if err != nil {
		return o, []string{fmt.Sprintf("fragment %q: %v", fragment, err)}
	}
	ms := func(key string, dst *time.Duration) {
		s := q.Get(key)
		if s == "" {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			problems = append(problems, fmt.Sprintf("%s=%q: want a positive number of milliseconds", key, s))
			return
		}
		*dst = time.Duration(n) * time.Millisecond
	}
	readSet := q.Has("rt")
	ms("ct", &o.connect)
	ms("rt", &o.read)
	ms("tt", &o.total)
	if !readSet || o.read > o.total {
		o.read = o.total
	}
	if s := q.Get("rc"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			problems = append(problems, fmt.Sprintf("rc=%q: want a retry count", s))
		} else {
			o.retries = min(n, maxRetries)
		}
	}
	if s := q.Get("rp"); s != "" {
		set, err := parseRetryOn(s)
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			o.retryOn = set
		}
	}
	return o, problems
}

// parseRetryOn parses an rp list such as "ct,5xx".
func parseRetryOn(s string) (retryOn, error) {
	var set retryOn
	for _, name := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "ct":
			set |= retryConnect
		case "rt":
			set |= retryRead
		case "4xx":
			set |= retry4xx
		case "5xx":
			set |= retry5xx
		case "all":
			set |= retryAll
		default:
			return 0, fmt.Errorf("rp=%q: unknown retry policy %q", s, name)
		}
	}
	return set, nil
}

// shouldRetry reports whether a failed attempt belongs to a class in the
// set: a transport failure with Twilio code (readTimeout when rt expired),
// or else a response with status.
func (set retryOn) shouldRetry(code int, readTimeout bool, status int) bool {
	switch {
	case code == CodeConnectTimeout:
		return set&retryConnect != 0
	case readTimeout:
		return set&retryRead != 0
	case code != 0:
		return false
	case status >= 400 && status < 500:
		return set&retry4xx != 0
	case status >= 500:
		return set&retry5xx != 0
	}
	return false
}
