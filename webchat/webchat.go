// Package webchat is the gateway's web chat: an embeddable page a visitor
// opens (no install: GET /webchat, or an <iframe> of it), whose
// conversation becomes a TaskRouter chat task; the agent desktop shows the
// task and the conversation and replies through Service.Post.
//
// Routes (Service.Handler):
//
//	GET  /webchat                                  the widget page
//	GET  /webchat/webchat.js                       its script
//	POST /webchat/api/conversations                {"name"} → {"sid","token"}: starts a chat and its task
//	POST /webchat/api/conversations/{CH}/messages  {"body"} (header X-Chat-Token) → the message
//	GET  /webchat/api/conversations/{CH}/messages?after=N  (X-Chat-Token) → {"messages":[…],"closed"}
//	                                               long-polls up to 25 s for a message after index N
//
// A conversation's token (128 random bits) is its visitor's secret.
// Conversations live in memory; at most Options.MaxConversations are
// kept (the oldest closed ones are forgotten first; forgetting an open one
// cancels its task), each with at most MaxMessages messages of at most
// MaxBody bytes. Starting a chat needs no credentials: put the gateway
// behind a rate-limiting proxy if /webchat is public.
//
// Chats are routed straight into a TaskRouter workflow (Options.WorkflowSID)
// with the attributes channelType "web", conversation_sid, name and from;
// they do not pass through a Studio "Webchat Flow" first.
package webchat

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/taskrouter"
)

// Limits.
const (
	DefaultMaxConversations = 1000
	MaxMessages             = 500
	MaxBody                 = 4096
	pollWait                = 25 * time.Second
)

// Tasks is what webchat needs from TaskRouter (*taskrouter.Router).
type Tasks interface {
	CreateContactTask(p taskrouter.ContactParams) (*taskrouter.ContactTask, error)
}

// Options configure a Service.
type Options struct {
	Tasks       Tasks
	WorkflowSID string         // where chats are routed
	Attributes  map[string]any // extra task attributes (e.g. {"queue": "support"})
	// MaxConversations kept in memory (default DefaultMaxConversations).
	MaxConversations int
	Logger           *slog.Logger
}

// Message is one line of a conversation.
type Message struct {
	Index  int       `json:"index"`
	Author string    `json:"author"` // "visitor", an agent's identity, or "system"
	Body   string    `json:"body"`
	Date   time.Time `json:"date"`
}

// Conversation is a visitor's chat.
type Conversation struct {
	SID      string    `json:"sid"`
	Name     string    `json:"name"`
	TaskSID  string    `json:"taskSid"`
	Closed   bool      `json:"closed"`
	Messages []Message `json:"messages"`
	token    string
	created  time.Time
	task     interface{ Cancel(reason string) } // the conversation's task
}

// Service holds the conversations.
type Service struct {
	opts    Options
	log     *slog.Logger
	mu      sync.Mutex
	convs   map[string]*Conversation
	byTask  map[string]string
	changed chan struct{} // closed and replaced on every change
}

// New makes a Service.
func New(opts Options) *Service {
	if opts.MaxConversations <= 0 {
		opts.MaxConversations = DefaultMaxConversations
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{opts: opts, log: opts.Logger, convs: map[string]*Conversation{}, byTask: map[string]string{}, changed: make(chan struct{})}
}

// Errors.
var (
	ErrNoConversation = errors.New("webchat: no such conversation")
	ErrClosed         = errors.New("webchat: the conversation is closed")
	ErrTooLong        = errors.New("webchat: message too long or conversation full")
)

// Start opens a conversation for a visitor and creates its chat task.
func (s *Service) Start(name string) (*Conversation, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Visitor"
	}
	if utf8.RuneCountInString(name) > 100 {
		return nil, ErrTooLong
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	c := &Conversation{SID: sid.New("CH"), Name: name, token: hex.EncodeToString(tok[:]), created: time.Now()}
	facts := map[string]any{"channelType": "web", "conversation_sid": c.SID, "name": name, "from": name}
	for k, v := range s.opts.Attributes {
		facts[k] = v
	}
	ct, err := s.opts.Tasks.CreateContactTask(taskrouter.ContactParams{WorkflowSID: s.opts.WorkflowSID, Channel: "chat", Facts: facts, Live: "chat " + c.SID})
	if err != nil {
		return nil, err
	}
	c.TaskSID, c.task = ct.SID, ct
	s.mu.Lock()
	s.prune()
	s.convs[c.SID] = c
	s.byTask[c.TaskSID] = c.SID
	s.appendLocked(c, "system", "Connecting you with an agent…")
	s.mu.Unlock()
	s.log.Info("webchat: conversation started", "conversation_sid", c.SID, "task_sid", c.TaskSID)
	return c, nil
}

// prune forgets the oldest conversations beyond the limit, closed first,
// canceling the task of one still open; s.mu held.
func (s *Service) prune() {
	for len(s.convs) >= s.opts.MaxConversations {
		var victim *Conversation
		for _, c := range s.convs {
			if victim == nil || c.Closed && !victim.Closed || c.Closed == victim.Closed && c.created.Before(victim.created) {
				victim = c
			}
		}
		delete(s.convs, victim.SID)
		delete(s.byTask, victim.TaskSID)
		if !victim.Closed && victim.task != nil {
			victim.task.Cancel("web chat forgotten: too many conversations")
		}
	}
}

// Post adds a message from author.
func (s *Service) Post(convSID, author, body string) (Message, error) {
	if len(body) > MaxBody || strings.TrimSpace(body) == "" {
		return Message{}, ErrTooLong
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[convSID]
	switch {
	case c == nil:
		return Message{}, ErrNoConversation
	case c.Closed:
		return Message{}, ErrClosed
	case len(c.Messages) >= MaxMessages:
		return Message{}, ErrTooLong
	}
	return s.appendLocked(c, author, body), nil
}

func (s *Service) appendLocked(c *Conversation, author, body string) Message {
	m := Message{Index: len(c.Messages), Author: author, Body: body, Date: time.Now().UTC()}
	c.Messages = append(c.Messages, m)
	s.notifyLocked()
	return m
}

func (s *Service) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Close ends a conversation (the agent completed its task).
func (s *Service) Close(convSID, note string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.convs[convSID]; c != nil && !c.Closed {
		if note != "" {
			s.appendLocked(c, "system", note)
		}
		c.Closed = true
		s.notifyLocked()
	}
}

// ByTask returns the conversation of a chat task.
func (s *Service) ByTask(taskSID string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[s.byTask[taskSID]]
	if c == nil {
		return Conversation{}, false
	}
	return s.copyLocked(c, 0), true
}

func (s *Service) copyLocked(c *Conversation, after int) Conversation {
	out := *c
	out.Messages = append([]Message(nil), c.Messages[min(max(after, 0), len(c.Messages)):]...)
	return out
}

// Changed returns a channel closed at the next change of any conversation.
func (s *Service) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// messagesAfter waits (up to ctx) until the conversation has a message at
// index ≥ after or is closed.
func (s *Service) messagesAfter(ctx context.Context, convSID string, after int) (Conversation, error) {
	for {
		s.mu.Lock()
		c := s.convs[convSID]
		if c == nil {
			s.mu.Unlock()
			return Conversation{}, ErrNoConversation
		}
		if len(c.Messages) > after || c.Closed {
			out := s.copyLocked(c, after)
			s.mu.Unlock()
			return out, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			out := s.copyLocked(c, after)
			s.mu.Unlock()
			return out, nil
		}
	}
}

//go:embed assets
var assets embed.FS

// Handler serves the widget and its API.
func (s *Service) Handler() http.Handler {
	static, _ := fs.Sub(assets, "assets")
	mux := http.NewServeMux()
	file := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			if strings.HasSuffix(name, ".html") {
				w.Header().Set("Content-Security-Policy", "default-src 'self'")
			}
			http.ServeFileFS(w, r, static, name)
		}
	}
	mux.HandleFunc("GET /webchat", file("webchat.html"))
	mux.HandleFunc("GET /webchat/webchat.js", file("webchat.js"))
	mux.HandleFunc("POST /webchat/api/conversations", s.serveStart)
	mux.HandleFunc("POST /webchat/api/conversations/{sid}/messages", s.servePost)
	mux.HandleFunc("GET /webchat/api/conversations/{sid}/messages", s.servePoll)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": msg})
}

func (s *Service) serveStart(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
		jsonError(w, http.StatusBadRequest, "send a JSON object {\"name\": …}")
		return
	}
	c, err := s.Start(in.Name)
	if err != nil {
		s.log.Warn("webchat: cannot start a conversation", "error", err)
		jsonError(w, http.StatusServiceUnavailable, "chat is not available right now")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"sid": c.SID, "token": c.token, "taskSid": c.TaskSID})
}

// authorized checks the conversation's token in constant time.
func (s *Service) authorized(r *http.Request) bool {
	s.mu.Lock()
	c := s.convs[r.PathValue("sid")]
	s.mu.Unlock()
	if c == nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Chat-Token")), []byte(c.token)) == 1
}

func (s *Service) servePost(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		jsonError(w, http.StatusNotFound, "no such conversation")
		return
	}
	var in struct{ Body string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2*MaxBody)).Decode(&in); err != nil {
		jsonError(w, http.StatusBadRequest, "send a JSON object {\"body\": …}")
		return
	}
	m, err := s.Post(r.PathValue("sid"), "visitor", in.Body)
	switch {
	case errors.Is(err, ErrClosed):
		jsonError(w, http.StatusConflict, "the conversation is closed")
	case err != nil:
		jsonError(w, http.StatusBadRequest, err.Error())
	default:
		writeJSON(w, http.StatusCreated, m)
	}
}

func (s *Service) servePoll(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		jsonError(w, http.StatusNotFound, "no such conversation")
		return
	}
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	ctx, cancel := context.WithTimeout(r.Context(), pollWait)
	defer cancel()
	c, err := s.messagesAfter(ctx, r.PathValue("sid"), after)
	if err != nil {
		jsonError(w, http.StatusNotFound, "no such conversation")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": c.Messages, "closed": c.Closed})
}
