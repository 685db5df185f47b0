package ivr

import (
	"fmt"
	"time"
)

// A call that fetches document after document without playing anything
// (a <Redirect> to itself, an action URL that answers with a <Redirect>)
// would fetch as fast as the application answers, forever. Twilio caps
// such document retrieval (its code 14106, "Document retrieval limit
// reached", names this loop; the limit there is 50). A document counts as
// quiet when the call moved on from it within quietDocument of receiving
// it — too soon for anything to have been said, played or waited for;
// after maxQuietDocuments quiet documents in a row the next fetch fails
// with 14106 and the call takes the application-error path: the fallback
// URL, once; if the documents stay quiet, the limit is reached again and
// then every fetch fails, the fallback's included, so the caller hears
// the error message and the call is hung up.
const (
	maxQuietDocuments = 50
	quietDocument     = 100 * time.Millisecond
	codeFetchLimit    = 14106
)

// fetchLimit counts a call's quiet documents in a row.
type fetchLimit struct {
	quiet    int
	tripped  bool      // the limit was reached and no document has been quiet since
	received time.Time // when the last document arrived; zero before the first
}

// next is called before each fetch, at now: it fails when the documents
// before have all been quiet. The first time, it then starts counting
// again (so that the fallback document can be fetched); the second, it
// goes on failing until a document keeps the caller.
func (l *fetchLimit) next(now time.Time) error {
	if l.received.IsZero() || now.Sub(l.received) >= quietDocument {
		l.quiet, l.tripped = 0, false
		return nil
	}
	l.quiet++
	if l.quiet < maxQuietDocuments {
		return nil
	}
	if !l.tripped {
		l.quiet, l.tripped = 0, true
	}
	return &verbError{code: codeFetchLimit, err: fmt.Errorf(
		"document retrieval limit reached: %d documents in a row played nothing (a <Redirect> or action URL loop?)", maxQuietDocuments)}
}

// arrived records when a document was received.
func (l *fetchLimit) arrived(now time.Time) { l.received = now }
