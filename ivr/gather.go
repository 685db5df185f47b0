package ivr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxgate/voxgate/twiml"
)

// gather runs <Gather> (twiml-voice.md §2.4): nested prompts with barge-in
// on the first key, a timeout that starts after the prompts and restarts
// after every key, finishOnKey and numDigits.
func (s *session) gather(g *twiml.Gather) (next, error) {
	if !g.Input.DTMF() {
		return next{}, &verbError{code: 12200, err: errors.New(`<Gather input="speech"> is not supported by Voxgate yet (use input="dtmf")`)}
	}
	if g.Input.Speech() {
		s.log.Warn(`ivr: <Gather input="dtmf speech">: speech is not supported yet; collecting DTMF only`)
	}
	digitsCh := s.call.Leg().DTMF()
	// No type-ahead: keys pressed before the Gather started do not count.
drain:
	for {
		select {
		case <-digitsCh:
		default:
			break drain
		}
	}

	promptCtx, stopPrompts := context.WithCancel(s.ctx)
	finished := make(chan error, 1)
	go func() { finished <- s.prompts(promptCtx, g.Children) }()
	promptsDone := finished // nil once received
	defer func() {
		stopPrompts()
		if promptsDone != nil {
			<-promptsDone
		}
	}()

	timeout := time.Duration(g.Timeout) * time.Second
	var timer <-chan time.Time // nil until the prompts end or a key arrives
	var digits []byte
	finishedOnKey := ""
	prompting := true
collect:
	for {
		select {
		case <-s.ctx.Done():
			return next{}, s.stopped()
		case err := <-promptsDone:
			promptsDone = nil
			prompting = false
			if errors.Is(err, errHangup) || errors.Is(err, errInterrupted) {
				return next{}, err
			}
			timer = s.e.cfg.Clock.After(timeout)
		case <-timer:
			break collect
		case d := <-digitsCh:
			if prompting {
				stopPrompts() // barge-in: the first key stops all remaining prompts
			}
			if g.FinishOnKey != "" && string(d.Key) == g.FinishOnKey {
				finishedOnKey = g.FinishOnKey
				break collect
			}
			digits = append(digits, d.Key)
			if g.NumDigits > 0 && len(digits) >= g.NumDigits {
				break collect
			}
			timer = s.e.cfg.Clock.After(timeout)
		}
	}
	s.log.Info("ivr: gather done", "digits", string(digits), "finished_on_key", finishedOnKey)
	if len(digits) == 0 && !g.ActionOnEmptyResult {
		return next{}, nil // empty input: the next verb
	}
	req, err := s.actionRequest(g.Action, g.Method, map[string]string{
		"Digits":        string(digits),
		"FinishedOnKey": finishedOnKey,
		"msg":           "Gather End",
	})
	if err != nil {
		return next{}, err
	}
	return next{req: req}, nil
}

// prompts plays a Gather's nested Say/Play/Pause in order until ctx ends.
func (s *session) prompts(ctx context.Context, verbs []twiml.Verb) error {
	for _, v := range verbs {
		if ctx.Err() != nil {
			return nil
		}
		var err error
		switch v := v.(type) {
		case *twiml.Say:
			err = s.sayCtx(ctx, v.Text, v.Voice, v.Language, v.Loop)
		case *twiml.Play:
			err = s.playCtx(ctx, v)
		case *twiml.Pause:
			select {
			case <-s.e.cfg.Clock.After(time.Duration(v.Length) * time.Second):
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
