package store

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Page sizes, as Twilio's PageSize.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// PageToken is an opaque cursor naming where the next page starts. The
// empty token is the first page.
type PageToken string

// Page asks for one page of a list.
type Page struct {
	Size  int       // rows per page: <= 0 means DefaultPageSize, > MaxPageSize means MaxPageSize
	Token PageToken // "" for the first page, else the token a list call returned
}

// limit returns the number of rows p asks for.
func (p Page) limit() int {
	switch {
	case p.Size <= 0:
		return DefaultPageSize
	case p.Size > MaxPageSize:
		return MaxPageSize
	}
	return p.Size
}

// tokenPrefix starts every token, as Twilio's "PA" page tokens do.
const tokenPrefix = "PA"

// cursor is the sort key of the last row of a page: a time in Unix
// nanoseconds and the key columns that break ties.
type cursor struct {
	at   int64
	keys []string
}

// token encodes c as "PA" + base64url("<at>:<key>:<key>…"), keys
// query-escaped.
func (c cursor) token() PageToken {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(c.at, 10))
	for _, k := range c.keys {
		b.WriteByte(':')
		b.WriteString(url.QueryEscape(k)) // escapes ':' so any key round-trips
	}
	raw := b.String()
	return PageToken(tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw)))
}

// parseCursor decodes a token made by cursor.token with nkeys key columns.
func parseCursor(t PageToken, nkeys int) (cursor, error) {
	s, ok := strings.CutPrefix(string(t), tokenPrefix)
	if !ok {
		return cursor{}, fmt.Errorf("%w: page token %q", ErrInvalid, t)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, fmt.Errorf("%w: page token %q: %w", ErrInvalid, t, err)
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != nkeys+1 {
		return cursor{}, fmt.Errorf("%w: page token %q: %d fields, want %d", ErrInvalid, t, len(parts), nkeys+1)
	}
	at, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return cursor{}, fmt.Errorf("%w: page token %q: %w", ErrInvalid, t, err)
	}
	keys := parts[1:]
	for i, k := range keys {
		if keys[i], err = url.QueryUnescape(k); err != nil {
			return cursor{}, fmt.Errorf("%w: page token %q: %w", ErrInvalid, t, err)
		}
	}
	return cursor{at: at, keys: keys}, nil
}
