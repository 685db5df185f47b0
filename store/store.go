package store

import (
	"context"
	"errors"
)

// Store is everything Voxgate persists. Implementations are safe for
// concurrent use.
type Store interface {
	CallStore
	RecordingStore
	QueueStore
	ConferenceStore
	// Close releases the store's resources; the store is unusable afterwards.
	Close() error
}

// CallStore keeps call detail records.
type CallStore interface {
	// PutCall inserts c, or updates the call with c.SID: the engine reports a
	// call's progress many times. AccountSID and DateCreated are kept from
	// the first write (a zero DateCreated on insert means now); DateUpdated
	// is set to now. It returns the call as stored.
	PutCall(ctx context.Context, c Call) (Call, error)
	// GetCall returns the call with sid, or an error matching ErrNotFound.
	GetCall(ctx context.Context, sid string) (Call, error)
	// ListCalls returns one page of the calls matching f, newest first, and
	// the token of the next page ("" on the last page).
	ListCalls(ctx context.Context, f CallFilter, p Page) ([]Call, PageToken, error)
	// DeleteCall removes the call's record (not its recordings).
	DeleteCall(ctx context.Context, sid string) error
}

// RecordingStore keeps recordings metadata; the audio is a file whose path
// the record holds.
type RecordingStore interface {
	// PutRecording inserts r, or updates the recording with r.SID, like
	// PutCall. A recording that was deleted stays deleted: an update cannot
	// revive it.
	PutRecording(ctx context.Context, r Recording) (Recording, error)
	// GetRecording returns the recording with sid, deleted or not, or an
	// error matching ErrNotFound.
	GetRecording(ctx context.Context, sid string) (Recording, error)
	// ListRecordings returns one page of the recordings matching f, newest
	// first, and the token of the next page ("" on the last page).
	ListRecordings(ctx context.Context, f RecordingFilter, p Page) ([]Recording, PageToken, error)
	// DeleteRecording marks the recording deleted (its metadata is kept with
	// Status "deleted") and returns the path of its audio file, which the
	// caller removes. A recording already deleted gives ErrNotFound.
	DeleteRecording(ctx context.Context, sid string) (path string, err error)
}

// QueueStore keeps queues and the history of their members.
type QueueStore interface {
	// CreateQueue stores a new queue. An empty q.SID gets a fresh one, a zero
	// MaxSize becomes DefaultQueueMaxSize. A FriendlyName (or SID) already
	// used in the account gives ErrDuplicate.
	CreateQueue(ctx context.Context, q Queue) (Queue, error)
	// GetQueue returns the queue with sid, or an error matching ErrNotFound.
	GetQueue(ctx context.Context, sid string) (Queue, error)
	// GetQueueByName returns the account's queue called name, or an error
	// matching ErrNotFound.
	GetQueueByName(ctx context.Context, accountSID, name string) (Queue, error)
	// UpdateQueue sets the FriendlyName and MaxSize of the queue with q.SID
	// (an empty name or zero size keeps the current one) and returns the
	// queue as stored. Other fields of q are ignored.
	UpdateQueue(ctx context.Context, q Queue) (Queue, error)
	// ListQueues returns one page of the queues matching f, newest first.
	ListQueues(ctx context.Context, f QueueFilter, p Page) ([]Queue, PageToken, error)
	// DeleteQueue removes the queue and its member history.
	DeleteQueue(ctx context.Context, sid string) error
	// PutQueueMember records that a call joined a queue, or updates that
	// entry (keyed by QueueSID, CallSID and DateEnqueued) when it leaves.
	// An unknown queue gives ErrNotFound.
	PutQueueMember(ctx context.Context, m QueueMember) (QueueMember, error)
	// ListQueueMembers returns one page of member history matching f, most
	// recently enqueued first.
	ListQueueMembers(ctx context.Context, f QueueMemberFilter, p Page) ([]QueueMember, PageToken, error)
}

// Errors that callers test for with errors.Is.
var (
	// ErrNotFound: no row has the SID or name asked for.
	ErrNotFound = errors.New("store: not found")
	// ErrDuplicate: a row with that SID, or a queue with that name in the
	// account, already exists.
	ErrDuplicate = errors.New("store: already exists")
	// ErrInvalid: an argument the store cannot accept (missing SID, unknown
	// status, malformed page token, time out of range).
	ErrInvalid = errors.New("store: invalid argument")
)
