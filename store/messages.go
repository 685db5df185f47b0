package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Message statuses (Twilio's MessageStatus values this gateway sets).
const (
	MessageQueued      = "queued"
	MessageSending     = "sending"
	MessageSent        = "sent"
	MessageDelivered   = "delivered"
	MessageUndelivered = "undelivered"
	MessageFailed      = "failed"
	MessageCanceled    = "canceled"
	MessageReceived    = "received"
)

// MessageStatusRank orders outbound statuses: a message only ever moves to
// a higher rank (receipts and callbacks arrive out of order). Terminal
// statuses share the top rank, so none replaces another.
func MessageStatusRank(status string) int {
	switch status {
	case "accepted", "scheduled":
		return 0
	case MessageQueued:
		return 1
	case MessageSending:
		return 2
	case MessageSent:
		return 3
	case MessageDelivered, MessageUndelivered, MessageFailed, MessageCanceled, MessageReceived:
		return 4
	}
	return -1
}

// Message is a stored SMS, inbound or outbound.
type Message struct {
	SID        string
	AccountSID string
	Direction  string // inbound, outbound-api, outbound-reply, outbound-call
	From, To   string
	Body       string
	// MediaURLs are the message's media, newline-separated.
	MediaURLs            string
	Status               string
	NumSegments          int
	ErrorCode            int // 0: none
	ErrorMessage         string
	StatusCallback       string
	StatusCallbackMethod string
	// Trunk names the transport's trunk.
	Trunk string
	// Pending marks an inbound message whose webhook or flow has not run
	// yet (a restart runs it).
	Pending bool
	// Attempts counts hand-overs to the transport.
	Attempts int
	// RawDlrDoneDate is the receipt's done date (YYMMDDhhmm).
	RawDlrDoneDate string
	DateSent       time.Time
	DateCreated    time.Time
	DateUpdated    time.Time
}

// MessageFilter selects messages; zero fields match everything.
type MessageFilter struct {
	AccountSID string
	To, From   string
	DateSent   TimeRange
}

// MessageStore keeps messages, their segments (for delivery receipts),
// opt-outs and messaging alerts. *SQLite implements it.
type MessageStore interface {
	// CreateMessage stores a new message (ErrDuplicate if its sid exists).
	// Zero dates mean now.
	CreateMessage(ctx context.Context, m Message) (Message, error)
	// GetMessage returns a message or ErrNotFound.
	GetMessage(ctx context.Context, sid string) (Message, error)
	// ListMessages returns one page, newest first.
	ListMessages(ctx context.Context, f MessageFilter, p Page) ([]Message, PageToken, error)
	// AdvanceMessage moves a message to status (with error code and
	// message, both may be zero) when that is a higher rank than its
	// current one, and reports whether it did. DateSent is set when the
	// status becomes sent. raw is the receipt's done date ("" keeps it).
	AdvanceMessage(ctx context.Context, sid, status string, errorCode int, errorMessage, raw string) (bool, error)
	// RequeueMessage puts a message back to queued (a transport retry),
	// counting the attempt.
	RequeueMessage(ctx context.Context, sid string) error
	// MarkMessageSending sets sending and counts an attempt.
	MarkMessageSending(ctx context.Context, sid string) error
	// SetMessageBody replaces a message's body (redaction).
	SetMessageBody(ctx context.Context, sid, body string) error
	// SetMessageHandled clears Pending on an inbound message.
	SetMessageHandled(ctx context.Context, sid string) error
	// DeleteMessage removes a message and its segments.
	DeleteMessage(ctx context.Context, sid string) error
	// UnfinishedMessages returns outbound messages still queued or sending
	// and inbound ones still pending, oldest first (reconciled at start):
	// this node's (and those no node owns), never those another node
	// sharing the database has in its outbox.
	UnfinishedMessages(ctx context.Context) ([]Message, error)
	// MessageSent records the provider ids of a sent message's segments
	// (seq from 1) and moves it to sent (reporting whether it moved).
	MessageSent(ctx context.Context, sid string, providerIDs []string) (bool, error)
	// AddMessageSegments records the provider ids of a sent message's
	// segments (seq from 1), all "sent".
	AddMessageSegments(ctx context.Context, sid string, providerIDs []string) error
	// SegmentReceipt records a receipt's status on the segment whose
	// provider id is one of ids (the first that exists) and, in the same
	// transaction, moves the message to delivered once every segment is,
	// or to undelivered (with errorCode) when one is not. It returns the
	// message sid and whether the message's status changed; ErrNotFound
	// when no id matches.
	SegmentReceipt(ctx context.Context, ids []string, status string, errorCode int, errorMessage, raw string) (sid string, changed bool, err error)
	// SetOptOut records (optedOut) or removes a contact's opt-out from a number.
	SetOptOut(ctx context.Context, number, contact string, optedOut bool) error
	// OptedOut reports whether contact opted out of number.
	OptedOut(ctx context.Context, number, contact string) (bool, error)
	// AddMessagingAlert stores a debugger record.
	AddMessagingAlert(ctx context.Context, a MessagingAlert) error
	// ListMessagingAlerts returns the alerts of a message ("" = all), oldest first.
	ListMessagingAlerts(ctx context.Context, messageSID string) ([]MessagingAlert, error)
}

// MessagingAlert is a debugger-style record of a messaging problem
// (Twilio's Monitor Alerts): an error code, its level and details.
type MessagingAlert struct {
	SID         string
	ErrorCode   int
	LogLevel    string // error or warning
	MessageSID  string
	URL         string
	Detail      string
	DateCreated time.Time
}

var _ MessageStore = (*DB)(nil)

// messageStmts are the statements run for every message, prepared once.
type messageStmts struct {
	w, r *sql.DB
	once sync.Once
	err  error

	// The batcher (batch.go), started with the statements.
	ops     chan *writeOp
	stop    chan struct{}
	stopped chan struct{}

	create, advance, sending, segment, get *sql.Stmt
	segFind, segUpdate, segList            *sql.Stmt
}

// ready prepares the statements once and returns them.
func (m *messageStmts) ready(ctx context.Context) (*messageStmts, error) {
	m.once.Do(func() {
		if m.err = m.prepare(context.WithoutCancel(ctx), m.w, m.r); m.err != nil {
			return
		}
		m.ops, m.stop, m.stopped = make(chan *writeOp), make(chan struct{}), make(chan struct{})
		go m.batch()
	})
	return m, m.err
}

func (m *messageStmts) prepare(ctx context.Context, w, r *sql.DB) error {
	var err error
	for _, p := range []struct {
		db  *sql.DB
		st  **sql.Stmt
		sql string
	}{
		{w, &m.create, createMessageSQL}, {w, &m.advance, advanceMessageSQL}, {w, &m.sending, sendingMessageSQL},
		{w, &m.segment, `INSERT INTO message_segments (message_sid, seq, provider_id) VALUES (?, ?, ?)` + segmentUpsert},
		{r, &m.get, `SELECT ` + messageColumns + ` FROM messages WHERE sid = ?`},
		{w, &m.segFind, `SELECT message_sid, seq FROM message_segments WHERE provider_id = ? LIMIT 1`},
		{w, &m.segUpdate, `UPDATE message_segments SET status = ? WHERE message_sid = ? AND seq = ?`},
		{w, &m.segList, `SELECT status FROM message_segments WHERE message_sid = ? ORDER BY seq`},
	} {
		if *p.st, err = p.db.PrepareContext(ctx, p.sql); err != nil {
			return fmt.Errorf("prepare message statements: %w", err)
		}
	}
	return nil
}

func (m *messageStmts) all() []*sql.Stmt {
	m.once.Do(func() { m.err = errStoreClosed }) // never prepare after Close
	if m.stop != nil {
		close(m.stop)
		<-m.stopped
	}
	var out []*sql.Stmt
	for _, st := range []*sql.Stmt{m.create, m.advance, m.sending, m.segment, m.get, m.segFind, m.segUpdate, m.segList} {
		if st != nil {
			out = append(out, st)
		}
	}
	return out
}

const messageColumns = `sid, account_sid, direction, from_number, to_number, body, media_urls, status, num_segments,
	error_code, error_message, status_callback, status_callback_method, trunk, pending, attempts, raw_dlr_done_date,
	date_sent, date_created, date_updated`

// CreateMessage implements MessageStore.
func (s *DB) CreateMessage(ctx context.Context, m Message) (Message, error) {
	if m.SID == "" || m.Status == "" || m.Direction == "" {
		return Message{}, fmt.Errorf("store: create message: %w: sid, status and direction are required", ErrInvalid)
	}
	now := s.now().UTC()
	if m.DateCreated.IsZero() {
		m.DateCreated = now
	}
	m.DateUpdated = now
	err := s.msg.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.msg.create).ExecContext(ctx,
			m.SID, m.AccountSID, m.Direction, m.From, m.To, m.Body, m.MediaURLs, m.Status, m.NumSegments,
			m.ErrorCode, m.ErrorMessage, m.StatusCallback, m.StatusCallbackMethod, m.Trunk, boolInt(m.Pending), m.Attempts,
			m.RawDlrDoneDate, nanos(m.DateSent), m.DateCreated.UnixNano(), m.DateUpdated.UnixNano(), s.nodeID)
		return err
	})
	if err != nil {
		return Message{}, fmt.Errorf("store: create message %s: %w", m.SID, classify(err))
	}
	return m, nil
}

// GetMessage implements MessageStore.
func (s *DB) GetMessage(ctx context.Context, sid string) (Message, error) {
	st, err := s.msg.ready(ctx)
	if err != nil {
		return Message{}, fmt.Errorf("store: get message: %w", err)
	}
	m, err := scanMessage(st.get.QueryRowContext(ctx, sid))
	if err != nil {
		return Message{}, fmt.Errorf("store: get message %s: %w", sid, notFoundIfNoRows(err))
	}
	return m, nil
}

// ListMessages implements MessageStore.
func (s *DB) ListMessages(ctx context.Context, f MessageFilter, p Page) ([]Message, PageToken, error) {
	if err := checkRange("DateSent", f.DateSent); err != nil {
		return nil, "", fmt.Errorf("store: list messages: %w", err)
	}
	q := listQuery{table: "messages", columns: messageColumns, timeCol: "date_created", keyCols: []string{"sid"}, page: p}
	q.filter.eq("account_sid", f.AccountSID)
	q.filter.eq("to_number", f.To)
	q.filter.eq("from_number", f.From)
	q.filter.within("date_sent", f.DateSent)
	msgs, next, err := list(ctx, s.r, q, scanMessage, func(m Message) cursor {
		return cursor{at: m.DateCreated.UnixNano(), keys: []string{m.SID}}
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: list messages: %w", err)
	}
	return msgs, next, nil
}

// rankSQL is MessageStatusRank in SQL.
const rankSQL = `CASE status WHEN 'accepted' THEN 0 WHEN 'scheduled' THEN 0 WHEN 'queued' THEN 1 WHEN 'sending' THEN 2
	WHEN 'sent' THEN 3 ELSE 4 END`

const (
	createMessageSQL  = `INSERT INTO messages (` + messageColumns + `, node_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	advanceMessageSQL = `UPDATE messages SET status = ?, error_code = ?, error_message = ?,
		raw_dlr_done_date = CASE WHEN ? = '' THEN raw_dlr_done_date ELSE ? END,
		date_sent = CASE WHEN ? = 'sent' AND date_sent IS NULL THEN ? ELSE date_sent END, date_updated = ?
		WHERE sid = ? AND ` + rankSQL + ` < ?`
	sendingMessageSQL = `UPDATE messages SET status = 'sending', attempts = attempts + 1,
		date_updated = ? WHERE sid = ? AND status IN ('queued', 'sending')`
)

// AdvanceMessage implements MessageStore.
func (s *DB) AdvanceMessage(ctx context.Context, sid, status string, errorCode int, errorMessage, raw string) (bool, error) {
	rank := MessageStatusRank(status)
	if rank < 0 {
		return false, fmt.Errorf("store: advance message %s: %w: status %q", sid, ErrInvalid, status)
	}
	now := s.now().UTC().UnixNano()
	var n int64
	err := s.msg.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.msg.advance).ExecContext(ctx,
			status, errorCode, errorMessage, raw, raw, status, now, now, sid, rank)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: advance message %s: %w", sid, err)
	}
	return n == 1, nil
}

// RequeueMessage implements MessageStore.
func (s *DB) RequeueMessage(ctx context.Context, sid string) error {
	return s.execOne(ctx, "requeue message "+sid, `UPDATE messages SET status = 'queued', date_updated = ?
		WHERE sid = ? AND status IN ('queued', 'sending')`, s.now().UnixNano(), sid)
}

// MarkMessageSending implements MessageStore.
func (s *DB) MarkMessageSending(ctx context.Context, sid string) error {
	now := s.now().UnixNano()
	err := s.msg.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.msg.sending).ExecContext(ctx, now, sid)
		if err == nil {
			err = expectOneRow(res)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: mark message sending %s: %w", sid, err)
	}
	return nil
}

// MessageSent implements MessageStore: the segment ids and the sent
// status in one transaction.
func (s *DB) MessageSent(ctx context.Context, sid string, providerIDs []string) (bool, error) {
	now := s.now().UTC().UnixNano()
	var n int64
	err := s.msg.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		seg := tx.StmtContext(ctx, s.msg.segment)
		for i, id := range providerIDs {
			if _, err := seg.ExecContext(ctx, sid, i+1, id); err != nil {
				return classify(err)
			}
		}
		res, err := tx.StmtContext(ctx, s.msg.advance).ExecContext(ctx, MessageSent, 0, "", "", "", MessageSent, now, now, sid, MessageStatusRank(MessageSent))
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: message sent %s: %w", sid, err)
	}
	return n == 1, nil
}

// SetMessageBody implements MessageStore.
func (s *DB) SetMessageBody(ctx context.Context, sid, body string) error {
	return s.execOne(ctx, "set message body "+sid, `UPDATE messages SET body = ?, date_updated = ? WHERE sid = ?`,
		body, s.now().UnixNano(), sid)
}

// SetMessageHandled implements MessageStore.
func (s *DB) SetMessageHandled(ctx context.Context, sid string) error {
	return s.execOne(ctx, "set message handled "+sid, `UPDATE messages SET pending = 0 WHERE sid = ?`, sid)
}

// DeleteMessage implements MessageStore.
func (s *DB) DeleteMessage(ctx context.Context, sid string) error {
	return s.execOne(ctx, "delete message "+sid, `DELETE FROM messages WHERE sid = ?`, sid)
}

func (s *DB) execOne(ctx context.Context, op, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err == nil {
		err = expectOneRow(res)
	}
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return nil
}

// UnfinishedMessages implements MessageStore: this node's messages (and
// those written before messages named their node), so that a gateway
// starting beside others on one database leaves their outboxes alone.
func (s *DB) UnfinishedMessages(ctx context.Context) ([]Message, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE (status IN ('queued', 'sending') OR pending = 1) AND node_id IN (?, '') ORDER BY date_created, sid`, s.nodeID)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unfinished messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// segmentUpsert makes inserting a segment replace the one with its
// number, as a new row would (portable SQL: no INSERT OR REPLACE).
const segmentUpsert = ` ON CONFLICT (message_sid, seq) DO UPDATE SET provider_id = excluded.provider_id, status = excluded.status`

// AddMessageSegments implements MessageStore.
func (s *DB) AddMessageSegments(ctx context.Context, sid string, providerIDs []string) error {
	if len(providerIDs) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, 3*len(providerIDs))
	b.WriteString(`INSERT INTO message_segments (message_sid, seq, provider_id) VALUES `)
	for i, id := range providerIDs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, sid, i+1, id)
	}
	b.WriteString(segmentUpsert)
	if _, err := s.w.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("store: add segments of %s: %w", sid, classify(err))
	}
	return nil
}

// SegmentReceipt implements MessageStore.
func (s *DB) SegmentReceipt(ctx context.Context, ids []string, status string, errorCode int, errorMessage, raw string) (string, bool, error) {
	var sid string
	var changed bool
	now := s.now().UTC().UnixNano()
	err := s.msg.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var seq int
		var err error
		for _, id := range ids {
			err = tx.StmtContext(ctx, s.msg.segFind).QueryRowContext(ctx, id).Scan(&sid, &seq)
			if err == nil || !errors.Is(err, sql.ErrNoRows) {
				break
			}
		}
		if err != nil {
			return notFoundIfNoRows(err)
		}
		if _, err := tx.StmtContext(ctx, s.msg.segUpdate).ExecContext(ctx, status, sid, seq); err != nil {
			return err
		}
		final, err := aggregateSegments(ctx, tx.StmtContext(ctx, s.msg.segList), sid)
		if err != nil || final == "" {
			return err
		}
		code, msg := errorCode, errorMessage
		if final == MessageDelivered {
			code, msg = 0, ""
		}
		res, err := tx.StmtContext(ctx, s.msg.advance).ExecContext(ctx, final, code, msg, raw, raw, final, now, now, sid, MessageStatusRank(final))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		changed = n == 1
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("store: segment receipt %v: %w", ids, err)
	}
	return sid, changed, nil
}

// aggregateSegments is a message's status from its segments' receipts:
// undelivered as soon as one is, delivered once all are, "" otherwise.
func aggregateSegments(ctx context.Context, list *sql.Stmt, sid string) (string, error) {
	rows, err := list.QueryContext(ctx, sid)
	if err != nil {
		return "", fmt.Errorf("store: segment receipt: %w", err)
	}
	defer rows.Close()
	all := true
	for rows.Next() {
		var status string
		if err := rows.Scan(&status); err != nil {
			return "", err
		}
		if status == MessageUndelivered {
			return MessageUndelivered, nil
		}
		all = all && status == MessageDelivered
	}
	if err := rows.Err(); err != nil || !all {
		return "", err
	}
	return MessageDelivered, nil
}

// SetOptOut implements MessageStore.
func (s *DB) SetOptOut(ctx context.Context, number, contact string, optedOut bool) error {
	var err error
	if optedOut {
		_, err = s.w.ExecContext(ctx, `INSERT INTO opt_outs (number, contact, date_created) VALUES (?, ?, ?)
			ON CONFLICT (number, contact) DO NOTHING`,
			number, contact, s.now().UnixNano())
	} else {
		_, err = s.w.ExecContext(ctx, `DELETE FROM opt_outs WHERE number = ? AND contact = ?`, number, contact)
	}
	if err != nil {
		return fmt.Errorf("store: opt-out %s/%s: %w", number, contact, err)
	}
	return nil
}

// OptedOut implements MessageStore.
func (s *DB) OptedOut(ctx context.Context, number, contact string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM opt_outs WHERE number = ? AND contact = ?`, number, contact).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: opted out %s/%s: %w", number, contact, err)
	}
	return n > 0, nil
}

// AddMessagingAlert implements MessageStore.
func (s *DB) AddMessagingAlert(ctx context.Context, a MessagingAlert) error {
	if a.DateCreated.IsZero() {
		a.DateCreated = s.now().UTC()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO messaging_alerts (sid, error_code, log_level, message_sid, url, detail, date_created)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, a.SID, a.ErrorCode, a.LogLevel, a.MessageSID, a.URL, a.Detail, a.DateCreated.UnixNano())
	if err != nil {
		return fmt.Errorf("store: add messaging alert: %w", classify(err))
	}
	return nil
}

// ListMessagingAlerts implements MessageStore.
func (s *DB) ListMessagingAlerts(ctx context.Context, messageSID string) ([]MessagingAlert, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT sid, error_code, log_level, message_sid, url, detail, date_created
		FROM messaging_alerts WHERE ? = '' OR message_sid = ? ORDER BY date_created, sid`, messageSID, messageSID)
	if err != nil {
		return nil, fmt.Errorf("store: list messaging alerts: %w", err)
	}
	defer rows.Close()
	var out []MessagingAlert
	for rows.Next() {
		var a MessagingAlert
		var at int64
		if err := rows.Scan(&a.SID, &a.ErrorCode, &a.LogLevel, &a.MessageSID, &a.URL, &a.Detail, &at); err != nil {
			return nil, err
		}
		a.DateCreated = fromNanos(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// scanMessage reads the messageColumns of one row.
func scanMessage(r rowScanner) (Message, error) {
	var m Message
	var pending int
	var sent sql.NullInt64
	var created, updated int64
	err := r.Scan(&m.SID, &m.AccountSID, &m.Direction, &m.From, &m.To, &m.Body, &m.MediaURLs, &m.Status, &m.NumSegments,
		&m.ErrorCode, &m.ErrorMessage, &m.StatusCallback, &m.StatusCallbackMethod, &m.Trunk, &pending, &m.Attempts,
		&m.RawDlrDoneDate, &sent, &created, &updated)
	if err != nil {
		return Message{}, err
	}
	m.Pending = pending == 1
	m.DateSent = fromNullNanos(sent)
	m.DateCreated, m.DateUpdated = fromNanos(created), fromNanos(updated)
	return m, nil
}
