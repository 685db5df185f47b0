// Package store keeps Voxgate's records: calls (CDRs), recordings metadata
// (the audio itself lives in files on disk), queues and queue-member history.
//
// [Store] is the interface the rest of Voxgate uses; [SQLite] implements it on
// an embedded SQLite database (pure Go, no cgo) in <dir>/voxgate.db. The
// interface is sized so that a second backend (PostgreSQL, for many nodes) can
// implement it without changing callers: every method takes a context, rows
// are plain structs, SIDs are strings minted by the caller (or by the store for
// queues), and listing uses opaque keyset page tokens rather than offsets.
//
// # Records
//
// Times are time.Time in UTC (zero means "not set", stored as NULL) with
// nanosecond precision; durations are whole seconds as ints unless a field
// says otherwise. DateCreated is fixed when a row is first written;
// DateUpdated is set by the store on every write.
//
// # Errors
//
// Missing rows give errors matching [ErrNotFound], unique-name clashes
// [ErrDuplicate], and bad arguments (empty SID, unknown status, malformed page
// token) [ErrInvalid]; test with errors.Is. Every error names the operation and
// the SID it concerns.
//
// # Paging
//
// Lists are ordered newest first by (DateCreated, SID). [Page] carries a size
// (default [DefaultPageSize], capped at [MaxPageSize]) and the token returned
// by the previous call; an empty returned token means the last page. Tokens
// ("PA" + base64 of the last row's sort key) are keyset cursors, so paging is
// stable while rows are inserted or updated: no row is returned twice and none
// that existed when paging started is skipped.
//
// # Concurrency and durability
//
// A *SQLite is safe for concurrent use. Writes go through one connection (so
// writers in this process queue instead of failing with SQLITE_BUSY; other
// processes are waited for by busy_timeout), reads through a small pool of
// read-only connections that WAL mode lets run alongside the writer. The
// database uses synchronous=NORMAL: a committed write survives a crash or
// restart of the process; after a power cut the last few commits may be lost
// but the file stays consistent.
//
// # Schema changes
//
// The schema is built by numbered migrations (see migrations.go), each applied
// once, in its own transaction, when the database is opened; applied versions
// are recorded in the schema_migrations table. To change the schema, append a
// migration with the next version number to the list; never edit or reorder
// one that has shipped. Opening a database written by a newer Voxgate (one with
// migrations this binary does not know) fails rather than guessing.
package store
