package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/voxgate/voxgate/sid"
)

func TestCallbackJournal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "callbacks")
	j, err := newCallbackJournal(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a, b := sid.New(sid.Call), sid.New(sid.Call)
	want := journaledCallback{URL: "https://app.example/status", Method: "GET", Events: []string{"answered", "completed"}}
	j.put(a, want)
	j.put(b, journaledCallback{URL: "https://app.example/other"})
	j.put("../../etc/passwd", want) // not a call SID: ignored
	if got, ok := j.get(a); !ok || got.URL != want.URL || got.Method != want.Method || !slices.Equal(got.Events, want.Events) {
		t.Errorf("get = %+v, %v", got, ok)
	}
	j.done(a)
	if _, ok := j.get(a); ok {
		t.Error("a call's callback is still there after done")
	}
	j.clear()
	if _, ok := j.get(b); ok {
		t.Error("clear left a callback")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left: %v", entries)
	}
}
