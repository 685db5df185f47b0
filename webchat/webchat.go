// Package webchat is the gateway's web chat: an embeddable page a visitor
// opens (no install: GET /webchat, or an <iframe> of it), whose
// conversation becomes a TaskRouter chat task; the agent desktop shows the
// task and the conversation, and the agent replies through the shared
// conversation.Store (the visitor long-polls for the replies).
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
// Conversations live in memory in a conversation.Store (its limits apply:
// the oldest closed ones are forgotten first; forgetting an open one
// cancels its task). Starting a chat needs no credentials: put the gateway
// behind a rate-limiting proxy if /webchat is public.
//
// Without a flow, chats are routed straight into a TaskRouter workflow
// (Options.WorkflowSID) with the attributes channelType "web",
// conversation_sid, name and from. With Options.FlowSID (Flex's "Webchat
// Flow"), a chat has no task at first: each visitor message runs the
// Studio flow (see flow.go) until its send-to-flex hands the chat to
// TaskRouter; from then on the visitor's messages are the agent's.
package webchat

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voxgate/voxgate/conversation"
	"github.com/voxgate/voxgate/sid"
	"github.com/voxgate/voxgate/taskrouter"
)

// Limits (those of package conversation).
const (
	DefaultMaxConversations = conversation.DefaultMaxConversations
	MaxMessages             = conversation.MaxMessages
	MaxBody                 = conversation.MaxBody
	pollWait                = 25 * time.Second
)

// Tasks is what webchat needs from TaskRouter (*taskrouter.Router).
type Tasks interface {
	CreateContactTask(p taskrouter.ContactParams) (*taskrouter.ContactTask, error)
}

// Options configure a Service.
type Options struct {
	Tasks       Tasks
	WorkflowSID string         // where chats are routed (without a FlowSID)
	Attributes  map[string]any // extra task attributes (e.g. {"queue": "support"}; without a FlowSID)
	// Conversations holds the chats (shared with the agent desktop and
	// the other channels); nil makes one keeping MaxConversations.
	Conversations *conversation.Store
	// MaxConversations kept in memory (default DefaultMaxConversations)
	// when the Service makes its own store.
	MaxConversations int
	// Flow runs the Studio Webchat Flow FlowSID (*studio.Executor); with
	// a FlowSID, chats start in that flow instead of in WorkflowSID.
	Flow    FlowRunner
	FlowSID string
	Logger  *slog.Logger
}

// Message and Conversation are package conversation's.
type (
	Message      = conversation.Message
	Conversation = conversation.Conversation
)

// Errors.
var (
	ErrNoConversation = conversation.ErrNoConversation
	ErrClosed         = conversation.ErrClosed
	ErrTooLong        = conversation.ErrTooLong
)

// Service starts visitors' chats; their conversations live in the
// conversation store it embeds (Post, Close, ByTask, Changed).
type Service struct {
	*conversation.Store
	opts  Options
	log   *slog.Logger
	locks keyedLock // one visitor message at a time per conversation runs the flow
}

// New makes a Service.
func New(opts Options) *Service {
	if opts.Conversations == nil {
		opts.Conversations = conversation.NewStore(opts.MaxConversations)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{Store: opts.Conversations, opts: opts, log: opts.Logger, locks: keyedLock{m: map[string]*keyedEntry{}}}
}

// Started is a visitor's new chat.
type Started struct {
	SID, TaskSID string
	token        string
}

// Start opens a conversation for a visitor and creates its chat task.
func (s *Service) Start(name string) (Started, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Visitor"
	}
	if utf8.RuneCountInString(name) > 100 {
		return Started{}, ErrTooLong
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	c := Started{SID: sid.New("CH"), token: hex.EncodeToString(tok[:])}
	if s.opts.FlowSID != "" {
		return s.startInFlow(c, name)
	}
	facts := map[string]any{"channelType": "web", "conversation_sid": c.SID, "name": name, "from": name}
	for k, v := range s.opts.Attributes {
		facts[k] = v
	}
	ct, err := s.opts.Tasks.CreateContactTask(taskrouter.ContactParams{WorkflowSID: s.opts.WorkflowSID, Channel: "chat", Facts: facts, Live: "chat " + c.SID})
	if err != nil {
		return Started{}, err
	}
	c.TaskSID = ct.SID
	if err := s.Open(conversation.Params{SID: c.SID, Channel: "chat", Name: name, TaskSID: ct.SID, Task: ct, Token: c.token}); err != nil {
		ct.Cancel("web chat not opened")
		return Started{}, err
	}
	_, _ = s.Post(c.SID, conversation.AuthorSystem, "Connecting you with an agent…")
	s.log.Info("webchat: conversation started", "conversation_sid", c.SID, "task_sid", c.TaskSID)
	return c, nil
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
	return s.Authorized(r.PathValue("sid"), r.Header.Get("X-Chat-Token"))
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
	m, err := s.visitorWrote(r.Context(), r.PathValue("sid"), in.Body)
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
	c, err := s.MessagesAfter(ctx, r.PathValue("sid"), after)
	if err != nil {
		jsonError(w, http.StatusNotFound, "no such conversation")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": c.Messages, "closed": c.Closed})
}
