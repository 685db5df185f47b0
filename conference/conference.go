// Package conference mixes conference rooms: N call legs (SIP/RTP and
// WebRTC alike, through media.Leg), each hearing everyone else but itself,
// with per-participant mute, hold music, coaching, beeps on enter and
// exit, a wait loop until a moderator (startConferenceOnEnter) arrives,
// endConferenceOnExit and maxParticipants — the rooms behind TwiML's
// <Dial><Conference> and Twilio's Conferences and Participants REST API.
//
// Each room has one owner: a goroutine that ticks every 20 ms, mixes one
// frame for every participant and runs every change to the room (joins,
// leaves, mute, hold…) between ticks, so the room's state needs no lock.
// Participants' audio reaches it through a jitter buffer per leg and
// leaves it through another, played on the leg's own pacer. Mixing
// allocates nothing per frame (BenchmarkMix).
//
// A room may be recorded (record.go), mono or dual, while it mixes,
// without allocating per frame either.
//
// A Manager finds rooms by friendly name per account, as Twilio does.
package conference

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/voxgate/voxgate/sid"
)

// SIDPrefix starts every conference SID.
const SIDPrefix = "CF"

// Limits.
const (
	// MaxParticipants is the most participants a room takes (Twilio's 250)
	// and the default of JoinOptions.MaxParticipants.
	MaxParticipants = 250
	// keepEnded is how many ended rooms the Manager remembers for the API.
	keepEnded = 1000
)

// Errors.
var (
	// ErrFull: the room already has its maxParticipants.
	ErrFull = errors.New("conference: the conference is full")
	// ErrEnded: the room has ended.
	ErrEnded = errors.New("conference: the conference has ended")
	// ErrNotFound: no such conference or participant.
	ErrNotFound = errors.New("conference: not found")
)

// Room statuses, as Twilio names them.
const (
	StatusInit       = "init"
	StatusInProgress = "in-progress"
	StatusCompleted  = "completed"
)

// Options configure a Manager.
type Options struct {
	// Notify sends one status callback (a conference event to the URL the
	// room's first participant gave). It is called on a goroutine of the
	// room's, in event order; nil drops callbacks.
	Notify func(ctx context.Context, target, method string, params url.Values)
	// Resolve turns an announce or hold URL (TwiML with <Play>/<Say>, or
	// audio) into 8 kHz audio; nil makes AnnounceUrl and HoldUrl fail.
	Resolve func(ctx context.Context, target, method string) ([]int16, error)
	// HoldMusic is the default hold music (nil: silence).
	HoldMusic []int16
	// Saved, when set, is told each room's state when it is made, starts
	// and ends (for the store), in order, on the same goroutine as Notify.
	Saved func(ctx context.Context, info Info)
	// RecordingsDir is where conference recordings are written ("" = no
	// recording); RecordingSaved is told each finished one (on the
	// callbacks' goroutine) and RecordingURL makes its RecordingUrl.
	RecordingsDir  string
	RecordingSaved func(ctx context.Context, rec Recording)
	RecordingURL   func(recordingSID string) string
	Logger         *slog.Logger
}

// Manager holds the live rooms, by account and friendly name, and the
// recently ended ones.
type Manager struct {
	opts Options
	log  *slog.Logger
	wg   sync.WaitGroup // the rooms' goroutines

	mu    sync.Mutex
	live  map[roomKey]*Room
	bySID map[string]*Room
	ended []string // SIDs of ended rooms, oldest first
}

type roomKey struct{ account, name string }

// NewManager returns a Manager with no rooms.
func NewManager(opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Manager{opts: opts, log: opts.Logger, live: map[roomKey]*Room{}, bySID: map[string]*Room{}}
}

// Close ends every room and waits for their goroutines.
func (m *Manager) Close() {
	m.mu.Lock()
	rooms := make([]*Room, 0, len(m.live))
	for _, r := range m.live {
		rooms = append(rooms, r)
	}
	m.mu.Unlock()
	for _, r := range rooms {
		_ = r.End("manager closed", "")
	}
	m.wg.Wait()
}

// Room returns the room with sid, live or recently ended.
func (m *Manager) Room(sid string) (*Room, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.bySID[sid]
	return r, ok
}

// LiveRoom returns the account's live room called name.
func (m *Manager) LiveRoom(account, name string) (*Room, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.live[roomKey{account, name}]
	return r, ok
}

// Rooms returns the state of the account's rooms, live and recently
// ended, newest first.
func (m *Manager) Rooms(account string) []Info {
	m.mu.Lock()
	rooms := make([]*Room, 0, len(m.bySID))
	for _, r := range m.bySID {
		if r.account == account {
			rooms = append(rooms, r)
		}
	}
	m.mu.Unlock()
	out := make([]Info, 0, len(rooms))
	for _, r := range rooms {
		out = append(out, r.Info())
	}
	slices.SortFunc(out, func(a, b Info) int { return b.Created.Compare(a.Created) })
	return out
}

// room returns the account's live room called name, making it when there
// is none.
func (m *Manager) room(account, name string) *Room {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := roomKey{account, name}
	if r, ok := m.live[k]; ok {
		return r
	}
	r := newRoom(m, sid.New(SIDPrefix), account, name)
	m.live[k] = r
	m.bySID[r.sid] = r
	r.notify.save(r.info)
	m.wg.Go(r.own)
	return r
}

// forgetLive stops finding r by its name: it is ending.
func (m *Manager) forgetLive(r *Room) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := (roomKey{r.account, r.name}); m.live[k] == r {
		delete(m.live, k)
	}
}

// roomEnded forgets r as live and remembers it as ended.
func (m *Manager) roomEnded(r *Room) {
	m.forgetLive(r)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ended = append(m.ended, r.sid)
	if len(m.ended) > keepEnded {
		delete(m.bySID, m.ended[0])
		m.ended = m.ended[1:]
	}
}

// Join adds a participant on leg to the account's room called name (made
// if it does not exist). The participant hears the room once Run runs.
func (m *Manager) Join(account, name string, o JoinOptions) (*Participant, error) {
	if o.Leg == nil {
		return nil, errors.New("conference: join: nil leg")
	}
	for {
		r := m.room(account, name)
		p, err := r.join(o)
		if errors.Is(err, ErrEnded) {
			continue // it ended between the lookup and the join: a new room
		}
		return p, err
	}
}

// Info is a room's state for the API.
type Info struct {
	SID, AccountSID, FriendlyName string
	Status                        string
	Created, Updated              time.Time
	// ReasonEnded and CallSIDEnding say why and by whom a completed room
	// ended.
	ReasonEnded, CallSIDEnding string
}
