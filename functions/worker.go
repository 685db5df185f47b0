package functions

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// workerSpec is how to start a runner process for one deployed build.
type workerSpec struct {
	node       string   // the node binary
	runner     string   // path of runner.js
	env        []string // the process environment: the Variables (and credentials)
	memoryMB   int      // V8 old-space cap (--max-old-space-size)
	init       initMsg  // sent first
	startLimit time.Duration
	log        *slog.Logger
}

// initMsg tells a runner what it serves.
type initMsg struct {
	T              string         `json:"t"`
	Build          string         `json:"build"`
	Functions      []manifestFile `json:"functions"`
	Assets         []manifestFile `json:"assets"`
	APIBase        string         `json:"apiBase"`
	RuntimeModules string         `json:"runtimeModules"`
	ContextKeys    []string       `json:"contextKeys"`
}

// manifestFile is one function or asset of a build.
type manifestFile struct {
	Path       string `json:"path"`
	Visibility string `json:"visibility"`
	File       string `json:"file"`
	SID        string `json:"sid"` // the Function or Asset
	Version    string `json:"version"`
}

// invocation is one request to run a function.
type invocation struct {
	T     string            `json:"t"`
	ID    string            `json:"id"`
	Path  string            `json:"path"`
	Event map[string]any    `json:"event"`
	Ctx   map[string]string `json:"ctx"`
}

// result is a function's HTTP answer.
type result struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	Body    []byte              `json:"-"`
}

// runnerMsg is anything a runner sends.
type runnerMsg struct {
	T       string              `json:"t"`
	ID      *string             `json:"id"`
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
	Level   string              `json:"level"`
	Msg     string              `json:"msg"`
}

// errWorkerExited fails the requests of a runner that died.
var errWorkerExited = errors.New("functions: the worker process exited")

// worker is one running Node.js runner. It serves many requests at once
// (handlers are asynchronous); a request is answered at most once.
type worker struct {
	spec   workerSpec
	cmd    *exec.Cmd
	toNode *os.File
	log    *slog.Logger

	writeMu sync.Mutex
	mu      sync.Mutex
	waiting map[string]*pendingCall
	pongs   chan struct{}
	ready   chan struct{}

	inflight atomic.Int32
	dead     atomic.Bool   // killed or exited: no new requests
	exited   chan struct{} // closed when the process has ended and its reader stopped
	exitErr  error
}

// pendingCall is a request waiting for its answer.
type pendingCall struct {
	done chan result
	log  *requestLog
}

// requestLog is where one request's log lines go: the gateway's log, with
// the function's, request's and call's SIDs, and the environment's Logs
// resource (keep).
type requestLog struct {
	*slog.Logger
	keep func(level slog.Level, msg string)
}

// note logs msg at level in both places.
func (l *requestLog) note(level slog.Level, msg string, args ...any) {
	l.Log(context.Background(), level, msg, args...)
	if l.keep != nil {
		l.keep(level, msg)
	}
}

// startWorker starts a runner and waits until it has loaded Twilio and is
// ready to serve (no cold start on the first request).
func startWorker(ctx context.Context, spec workerSpec) (*worker, error) {
	fromGo, toNode, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("functions: worker pipe: %w", err)
	}
	fromNode, toGo, err := os.Pipe()
	if err != nil {
		fromGo.Close()
		toNode.Close()
		return nil, fmt.Errorf("functions: worker pipe: %w", err)
	}
	cmd := exec.Command(spec.node, "--max-old-space-size="+strconv.Itoa(spec.memoryMB), spec.runner)
	cmd.Env = spec.env
	cmd.Dir = spec.init.Build
	cmd.ExtraFiles = []*os.File{fromGo, toGo} // fd 3, fd 4
	w := &worker{spec: spec, cmd: cmd, toNode: toNode, log: spec.log,
		waiting: map[string]*pendingCall{}, pongs: make(chan struct{}, 1), ready: make(chan struct{}), exited: make(chan struct{})}
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{fromGo, toNode, fromNode, toGo} {
			f.Close()
		}
		return nil, fmt.Errorf("functions: start %s: %w", spec.node, err)
	}
	fromGo.Close()
	toGo.Close()
	var outputs sync.WaitGroup
	outputs.Add(2)
	go w.logOutput(&outputs, stdout, slog.LevelInfo)
	go w.logOutput(&outputs, stderr, slog.LevelWarn)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		w.read(fromNode)
	}()
	go func() {
		outputs.Wait()
		w.exitErr = cmd.Wait()
		<-readerDone
		fromNode.Close()
		w.dead.Store(true)
		w.failAll()
		close(w.exited)
	}()
	spec.init.T = "init"
	if err := w.send(spec.init); err != nil {
		w.kill()
		return nil, err
	}
	timer := time.NewTimer(spec.startLimit)
	defer timer.Stop()
	select {
	case <-w.ready:
		return w, nil
	case <-w.exited:
		return nil, fmt.Errorf("functions: the worker exited while starting: %v", w.exitErr)
	case <-timer.C:
		w.kill()
		return nil, fmt.Errorf("functions: the worker was not ready within %s", spec.startLimit)
	case <-ctx.Done():
		w.kill()
		return nil, ctx.Err()
	}
}

// logOutput copies what a runner prints outside console.* (which the
// runner forwards itself) to the log.
func (w *worker) logOutput(wg *sync.WaitGroup, r io.Reader, level slog.Level) {
	defer wg.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		w.log.Log(context.Background(), level, "functions: worker output", "pid", w.cmd.Process.Pid, "line", sc.Text())
	}
}

// read dispatches the runner's messages until its pipe closes.
func (w *worker) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		var m runnerMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			w.log.Error("functions: bad message from the worker", "error", err)
			continue
		}
		switch m.T {
		case "ready":
			close(w.ready)
		case "pong":
			select {
			case w.pongs <- struct{}{}:
			default:
			}
		case "log":
			w.functionLog(m)
		case "res":
			w.answer(m)
		}
	}
}

// functionLog writes a console.* line of a function to the gateway's log,
// with the function's, request's and call's SIDs.
func (w *worker) functionLog(m runnerMsg) {
	log := &requestLog{Logger: w.log}
	if m.ID != nil {
		w.mu.Lock()
		if p := w.waiting[*m.ID]; p != nil {
			log = p.log
		}
		w.mu.Unlock()
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(m.Level))
	var args []any
	if level >= slog.LevelError {
		args = append(args, "code", codeErrorLog) // an error logged by a function is Twilio's 82005
	}
	log.Log(context.Background(), level, "function: "+m.Msg, args...)
	if log.keep != nil {
		log.keep(level, m.Msg)
	}
}

func (w *worker) answer(m runnerMsg) {
	if m.ID == nil {
		return
	}
	w.mu.Lock()
	p := w.waiting[*m.ID]
	delete(w.waiting, *m.ID)
	w.mu.Unlock()
	if p == nil {
		return // answered after its deadline
	}
	body, err := base64.StdEncoding.DecodeString(m.Body)
	if err != nil {
		p.log.Error("functions: bad body from the worker", "error", err)
		m.Status, body = 502, nil
	}
	p.done <- result{Status: m.Status, Headers: m.Headers, Body: body}
}

// failAll ends every waiting request of a runner that died.
func (w *worker) failAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, p := range w.waiting {
		close(p.done)
		delete(w.waiting, id)
	}
}

func (w *worker) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("functions: encode: %w", err)
	}
	b = append(b, '\n')
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	if _, err := w.toNode.Write(b); err != nil {
		return fmt.Errorf("functions: write to the worker: %w", err)
	}
	return nil
}

// call runs one function and waits for its answer until ctx ends. A
// closed channel means the process died. The caller counts it in
// inflight (pool.pick does).
func (w *worker) call(ctx context.Context, inv invocation, log *requestLog) (result, error) {
	p := &pendingCall{done: make(chan result, 1), log: log}
	w.mu.Lock()
	select {
	case <-w.exited:
		w.mu.Unlock()
		return result{}, errWorkerExited
	default:
	}
	w.waiting[inv.ID] = p
	w.mu.Unlock()
	inv.T = "req"
	if err := w.send(inv); err != nil {
		w.forget(inv.ID)
		return result{}, err
	}
	select {
	case r, ok := <-p.done:
		if !ok {
			return result{}, errWorkerExited
		}
		return r, nil
	case <-ctx.Done():
		w.forget(inv.ID)
		_ = w.send(map[string]string{"t": "cancel", "id": inv.ID}) // the runner forgets it too
		return result{}, ctx.Err()
	}
}

func (w *worker) forget(id string) {
	w.mu.Lock()
	delete(w.waiting, id)
	w.mu.Unlock()
}

// responsive reports whether the runner's event loop answers a ping
// within limit: a function stuck in a loop blocks it.
func (w *worker) responsive(limit time.Duration) bool {
	select {
	case <-w.pongs: // a stale pong
	default:
	}
	if err := w.send(map[string]string{"t": "ping"}); err != nil {
		return false
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-w.pongs:
		return true
	case <-w.exited:
		return false
	case <-t.C:
		return false
	}
}

// kill ends the process; exited closes once it is gone.
func (w *worker) kill() {
	w.dead.Store(true)
	_ = w.cmd.Process.Kill()
}

// stop closes the runner's input (it exits when idle) and kills it if it
// has not ended after grace.
func (w *worker) stop(grace time.Duration) {
	w.writeMu.Lock()
	w.toNode.Close()
	w.writeMu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-w.exited:
	case <-t.C:
		w.kill()
		<-w.exited
	}
}
