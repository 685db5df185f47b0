package audio

import (
	"errors"
	"fmt"
)

// ErrUnsupported is wrapped by every error the decoders return: the data is
// not audio this package can decode (unknown or corrupt container, an
// unsupported codec, an impossible sample rate, a non-audio Content-Type).
var ErrUnsupported = errors.New("audio: unsupported audio format")

// formatError is a decode failure. It matches ErrUnsupported with errors.Is
// and unwraps to its cause, if any.
type formatError struct {
	msg   string
	cause error
}

// unsupportedf returns an error, matching ErrUnsupported, whose message is
// "audio: " followed by the formatted text. A %w verb records the cause.
func unsupportedf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &formatError{msg: "audio: " + err.Error(), cause: errors.Unwrap(err)}
}

func (e *formatError) Error() string        { return e.msg }
func (e *formatError) Unwrap() error        { return e.cause }
func (e *formatError) Is(target error) bool { return target == ErrUnsupported }

// detailf is unsupportedf without the "audio: " prefix, for errors that
// callers always wrap with their own context.
func detailf(format string, args ...any) error {
	return &formatError{msg: fmt.Sprintf(format, args...)}
}
