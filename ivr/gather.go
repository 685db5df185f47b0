package ivr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxgate/voxgate/twiml"
)

func init() { registerVerb(func(v *twiml.Gather) verb { return &gatherVerb{g: v} }) }

// gatherVerb runs <Gather> (twiml-voice.md §2.4) for DTMF: nested prompts
// with barge-in on the first key, a timeout that starts after the prompts
// and restarts after every key, finishOnKey and numDigits.
type gatherVerb struct {
	g             *twiml.Gather
	digits        []byte
	finishedOnKey string
}

func (v *gatherVerb) run(s *session) (next, error) {
	g := v.g
	if !g.Input.DTMF() {
		return next{}, &verbError{code: 12200, err: errors.New(`<Gather input="speech"> is not supported by Voxgate yet (use input="dtmf")`)}
	}
	if g.Input.Speech() {
		s.log.Warn(`ivr: <Gather input="dtmf speech">: speech is not supported yet; collecting DTMF only`)
	}
	s.drainDigits()
	if err := v.collect(s); err != nil {
		return next{}, err
	}
	s.log.Info("ivr: gather done", "digits", string(v.digits), "finished_on_key", v.finishedOnKey)
	if len(v.digits) == 0 && !g.ActionOnEmptyResult {
		return next{}, nil // empty input: the next verb
	}
	req, err := s.actionRequest(g.Action, g.Method, map[string]string{
		"Digits":        string(v.digits),
		"FinishedOnKey": v.finishedOnKey,
		"msg":           "Gather End",
	})
	if err != nil {
		return next{}, err
	}
	return next{req: req}, nil
}

// collect plays the prompts and takes keys until the input is complete.
func (v *gatherVerb) collect(s *session) error {
	g := v.g
	promptCtx, stopPrompts := context.WithCancel(s.ctx)
	finished := make(chan error, 1)
	go func() { finished <- prompts(promptCtx, s, g.Children) }()
	promptsDone := finished // nil once received
	defer func() {
		stopPrompts()
		if promptsDone != nil {
			<-promptsDone
		}
	}()
	timeout := time.Duration(g.Timeout) * time.Second
	var timer <-chan time.Time // nil until the prompts end or a key arrives
	prompting := true
	for {
		select {
		case <-s.ctx.Done():
			return s.stopped()
		case err := <-promptsDone:
			promptsDone, prompting = nil, false
			if errors.Is(err, errHangup) || errors.Is(err, errInterrupted) {
				return err
			}
			timer = s.after(timeout)
		case <-timer:
			return nil
		case d := <-s.leg().DTMF():
			if prompting {
				stopPrompts() // barge-in: the first key stops all remaining prompts
			}
			if g.FinishOnKey != "" && string(d.Key) == g.FinishOnKey {
				v.finishedOnKey = g.FinishOnKey
				return nil
			}
			v.digits = append(v.digits, d.Key)
			if g.NumDigits > 0 && len(v.digits) >= g.NumDigits {
				return nil
			}
			timer = s.after(timeout)
		}
	}
}

// prompts plays a Gather's nested Say/Play/Pause in order until ctx ends.
func prompts(ctx context.Context, s *session, verbs []twiml.Verb) error {
	for _, v := range verbs {
		if ctx.Err() != nil {
			return nil
		}
		var err error
		switch v := v.(type) {
		case *twiml.Say:
			err = s.say(ctx, v.Text, v.Voice, v.Language, v.Loop)
		case *twiml.Play:
			err = s.play(ctx, v)
		case *twiml.Pause:
			select {
			case <-s.after(time.Duration(v.Length) * time.Second):
			case <-ctx.Done():
			}
		default:
			err = &verbError{code: 13320, err: fmt.Errorf("<%s> cannot be nested in <Gather>", v.Name())}
		}
		if errors.Is(err, errHangup) || errors.Is(err, errInterrupted) {
			return err
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			s.log.Warn("ivr: gather prompt failed", "error", err)
		}
	}
	return nil
}
