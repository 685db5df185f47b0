//go:build !linux

package media

// sockRecv is the state of receiving for a leg from a scheduler worker;
// outside Linux workers do not receive (legs run their receive loop).
type sockRecv struct{}

// receiveReady is never called outside Linux: workers watch no sockets.
func (l *RTPLeg) receiveReady() {}
