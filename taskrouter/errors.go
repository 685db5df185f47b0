package taskrouter

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a refused request, in Twilio's terms: Status is the HTTP
// status, Code Twilio's error code.
type Error struct {
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// Twilio's codes used here.
const (
	codeInvalid  = 20001 // invalid parameter
	codeNotFound = 20404
	codeConflict = 20409 // resource state does not allow the change
)

func errNotFound(kind, sid string) error {
	return &Error{Status: http.StatusNotFound, Code: codeNotFound, Message: fmt.Sprintf("The requested resource %s %s was not found", kind, sid)}
}

func errInvalid(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Code: codeInvalid, Message: fmt.Sprintf(format, args...)}
}

func errConflict(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Code: codeConflict, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound matches (errors.Is) every not-found error of the package.
var ErrNotFound = errors.New("taskrouter: not found")

// Is makes errors.Is(err, ErrNotFound) work for 404 errors.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Code == codeNotFound
}
