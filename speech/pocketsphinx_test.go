package speech

import (
	"context"
	"errors"
	"testing"
	"time"
)

var hints = []string{"one", "two", "yes", "no", "sales", "support", "billing"}

// listen feeds an utterance through a Listener to rec, as a call would,
// with a second of silence after it, and returns the result.
func listen(t *testing.T, rec Recognizer, pcm []int16, opts Options) (Result, error) {
	t.Helper()
	sess, err := rec.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(sess, ListenerConfig{SpeechTimeout: 500 * time.Millisecond})
	fs := append(frames(pcm), frames(make([]int16, 8000))...)
	for i, f := range fs {
		l.WriteFrame(f)
		select {
		case <-l.Ended():
			if i < len(frames(pcm))-25 { // the speech, less its 0.5 s of trailing silence
				t.Errorf("speech ended at frame %d of %d: too early", i, len(fs))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return l.Result(ctx)
		default:
		}
	}
	t.Fatalf("the listener never heard the end of the speech")
	return Result{}, nil
}

func TestPocketsphinxRecognizesHints(t *testing.T) {
	rec := &Pocketsphinx{}
	for _, word := range []string{"one", "two", "yes", "sales", "support", "billing"} {
		res, err := listen(t, rec, say(t, word), Options{Language: "en-US", Hints: hints})
		if err != nil {
			t.Fatalf("%s: %v", word, err)
		}
		if res.Text != word {
			t.Errorf("said %q, recognized %q", word, res.Text)
		}
	}
}

func TestPocketsphinxDigitSequence(t *testing.T) {
	// Spoken digit strings are harder for this model than single words
	// ("seven" and "eight six" are often misheard): these are recognized reliably.
	for _, said := range []string{"nine one one", "five five five"} {
		res, err := listen(t, &Pocketsphinx{}, say(t, said), Options{Hints: []string{"$OOV_CLASS_DIGIT_SEQUENCE"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != said {
			t.Errorf("said %q, recognized %q", said, res.Text)
		}
	}
}

func TestListenerSilenceIsNoSpeech(t *testing.T) {
	sess, err := (&Pocketsphinx{}).Start(context.Background(), Options{Hints: hints})
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(sess, ListenerConfig{})
	for _, f := range frames(make([]int16, 16000)) {
		l.WriteFrame(f)
	}
	select {
	case <-l.Started():
		t.Errorf("silence taken for speech")
	default:
	}
	if _, err := l.Result(context.Background()); !errors.Is(err, ErrNoSpeech) {
		t.Errorf("Result = %v, want ErrNoSpeech", err)
	}
}

func TestGrammarFromHints(t *testing.T) {
	dict := map[string]bool{"sales": true, "customer": true, "service": true}
	g := grammar([]string{"Sales", "customer service", "zzyzx", " sales "}, dict)
	want := "#JSGF V1.0;\ngrammar hints;\npublic <hints> = sales | customer service;\n"
	if g != want {
		t.Errorf("grammar =\n%s\nwant\n%s", g, want)
	}
	if g := grammar([]string{"zzyzx"}, dict); g != "" {
		t.Errorf("no known words: grammar %q, want none", g)
	}
}
