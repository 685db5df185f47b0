// Package conversation keeps the text conversations agents hold on the
// desktop, whatever carries them: a web chat (package webchat) or an SMS
// conversation handed to Flex (package smsdesk). Each conversation belongs
// to one TaskRouter task; the contact's side posts what the contact wrote,
// the agent's side replies through Reply, which first delivers the reply
// to the contact (for SMS, as a text message) with the conversation's
// Deliver function.
//
// Conversations live in memory; at most Store's limit are kept (the
// oldest closed ones are forgotten first; forgetting an open one cancels
// its task), each with at most MaxMessages messages of at most MaxBody
// bytes.
package conversation

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Limits.
const (
	DefaultMaxConversations = 1000
	MaxMessages             = 500
	MaxBody                 = 4096
)

// Errors.
var (
	ErrNoConversation = errors.New("conversation: no such conversation")
	ErrClosed         = errors.New("conversation: the conversation is closed")
	ErrTooLong        = errors.New("conversation: message too long or conversation full")
)

// Authors that are not agents.
const (
	AuthorSystem = "system"
)

// Message is one line of a conversation.
type Message struct {
	Index  int       `json:"index"`
	Author string    `json:"author"` // the contact's role ("visitor", "contact"), an agent's identity, or "system"
	Body   string    `json:"body"`
	Date   time.Time `json:"date"`
}

// Canceler cancels a conversation's task (*taskrouter.ContactTask).
type Canceler interface{ Cancel(reason string) }

// Conversation is a contact's conversation with an agent.
type Conversation struct {
	SID      string    `json:"sid"`
	Channel  string    `json:"channel"` // "chat", "sms"
	Name     string    `json:"name"`
	TaskSID  string    `json:"taskSid"`
	Closed   bool      `json:"closed"`
	Messages []Message `json:"messages"`
	token    string
	created  time.Time
	task     Canceler
	deliver  func(ctx context.Context, author, body string) error
}

// Params open a conversation.
type Params struct {
	SID, Channel, Name, TaskSID string
	// Task is canceled when the conversation is forgotten while open.
	Task Canceler
	// Token, when set, is the contact's secret (see Authorized).
	Token string
	// Deliver, when set, carries an agent's reply to the contact before
	// it is added to the conversation; an error refuses the reply.
	Deliver func(ctx context.Context, author, body string) error
}

// Store holds conversations. It is safe for concurrent use.
type Store struct {
	max     int
	mu      sync.Mutex
	convs   map[string]*Conversation
	byTask  map[string]string
	changed chan struct{} // closed and replaced on every change
}

// NewStore makes a Store keeping at most limit conversations (≤ 0:
// DefaultMaxConversations).
func NewStore(limit int) *Store {
	if limit <= 0 {
		limit = DefaultMaxConversations
	}
	return &Store{max: limit, convs: map[string]*Conversation{}, byTask: map[string]string{}, changed: make(chan struct{})}
}

// Open adds a conversation, forgetting old ones beyond the limit.
func (s *Store) Open(p Params) error {
	if p.SID == "" {
		return errors.New("conversation: no SID")
	}
	c := &Conversation{SID: p.SID, Channel: p.Channel, Name: p.Name, TaskSID: p.TaskSID, token: p.Token,
		created: time.Now(), task: p.Task, deliver: p.Deliver}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.convs[p.SID] != nil {
		return fmt.Errorf("conversation: %s exists", p.SID)
	}
	s.prune()
	s.convs[c.SID] = c
	if c.TaskSID != "" {
		s.byTask[c.TaskSID] = c.SID
	}
	s.notifyLocked()
	return nil
}

// Attach gives an open conversation that has no task yet its task (a web
// chat that a Studio flow handed to Flex).
func (s *Store) Attach(convSID, taskSID string, task Canceler) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[convSID]
	switch {
	case c == nil:
		return ErrNoConversation
	case c.Closed:
		return ErrClosed
	case c.TaskSID != "":
		return fmt.Errorf("conversation: %s already has task %s", convSID, c.TaskSID)
	}
	c.TaskSID, c.task = taskSID, task
	s.byTask[taskSID] = convSID
	s.notifyLocked()
	return nil
}

// Get returns a conversation (a copy).
func (s *Store) Get(convSID string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[convSID]
	if c == nil {
		return Conversation{}, false
	}
	return copyOf(c, 0), true
}

// prune forgets the oldest conversations beyond the limit, closed first,
// canceling the task of one still open; s.mu held.
func (s *Store) prune() {
	for len(s.convs) >= s.max {
		var victim *Conversation
		for _, c := range s.convs {
			if victim == nil || c.Closed && !victim.Closed || c.Closed == victim.Closed && c.created.Before(victim.created) {
				victim = c
			}
		}
		delete(s.convs, victim.SID)
		delete(s.byTask, victim.TaskSID)
		if !victim.Closed && victim.task != nil {
			victim.task.Cancel(victim.Channel + " conversation forgotten: too many conversations")
		}
	}
}

// Authorized reports whether token is the conversation's token (in
// constant time); a conversation without a token authorizes nobody.
func (s *Store) Authorized(convSID, token string) bool {
	s.mu.Lock()
	c := s.convs[convSID]
	s.mu.Unlock()
	if c == nil || c.token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(c.token)) == 1
}

// Post adds a message from author (the contact, or the system) as is.
func (s *Store) Post(convSID, author, body string) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.writable(convSID, body)
	if err != nil {
		return Message{}, err
	}
	return s.appendLocked(c, author, body), nil
}

// Reply delivers an agent's reply to the contact (the conversation's
// Deliver) and adds it.
func (s *Store) Reply(ctx context.Context, convSID, author, body string) (Message, error) {
	s.mu.Lock()
	c, err := s.writable(convSID, body)
	s.mu.Unlock()
	if err != nil {
		return Message{}, err
	}
	if c.deliver != nil {
		if err := c.deliver(ctx, author, body); err != nil {
			return Message{}, fmt.Errorf("conversation %s: delivering the reply: %w", convSID, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendLocked(c, author, body), nil
}

// writable finds an open conversation with room for body; s.mu held.
func (s *Store) writable(convSID, body string) (*Conversation, error) {
	if len(body) > MaxBody || strings.TrimSpace(body) == "" {
		return nil, ErrTooLong
	}
	c := s.convs[convSID]
	switch {
	case c == nil:
		return nil, ErrNoConversation
	case c.Closed:
		return nil, ErrClosed
	case len(c.Messages) >= MaxMessages:
		return nil, ErrTooLong
	}
	return c, nil
}

func (s *Store) appendLocked(c *Conversation, author, body string) Message {
	m := Message{Index: len(c.Messages), Author: author, Body: body, Date: time.Now().UTC()}
	c.Messages = append(c.Messages, m)
	s.notifyLocked()
	return m
}

func (s *Store) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Close ends a conversation (its task was completed, wrapped or
// canceled), adding note as a system message when it is not empty.
func (s *Store) Close(convSID, note string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.convs[convSID]; c != nil && !c.Closed {
		if note != "" {
			s.appendLocked(c, AuthorSystem, note)
		}
		c.Closed = true
		s.notifyLocked()
	}
}

// IsOpen reports whether the conversation exists and is not closed.
func (s *Store) IsOpen(convSID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[convSID]
	return c != nil && !c.Closed
}

// ByTask returns the conversation of a task.
func (s *Store) ByTask(taskSID string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[s.byTask[taskSID]]
	if c == nil {
		return Conversation{}, false
	}
	return copyOf(c, 0), true
}

func copyOf(c *Conversation, after int) Conversation {
	out := *c
	out.Messages = append([]Message(nil), c.Messages[min(max(after, 0), len(c.Messages)):]...)
	return out
}

// Changed returns a channel closed at the next change of any conversation.
func (s *Store) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// MessagesAfter waits (until ctx ends) for the conversation to have a
// message at index ≥ after or to be closed, and returns it with the
// messages from index after on.
func (s *Store) MessagesAfter(ctx context.Context, convSID string, after int) (Conversation, error) {
	for {
		s.mu.Lock()
		c := s.convs[convSID]
		if c == nil {
			s.mu.Unlock()
			return Conversation{}, ErrNoConversation
		}
		if len(c.Messages) > after || c.Closed {
			out := copyOf(c, after)
			s.mu.Unlock()
			return out, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			out := copyOf(c, after)
			s.mu.Unlock()
			return out, nil
		}
	}
}
