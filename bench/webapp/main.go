// Command webapp is the TwiML application bench/run.sh points the gateway
// at: one document per benchmark scenario, and the audio they play. It
// listens on 127.0.0.1 only and logs nothing per request.
//
//	go run ./bench/webapp -listen 127.0.0.1:8090 -audio prompt.wav
//
// Documents (all POST or GET):
//
//	/say-hangup   <Say> a short greeting, then <Hangup>
//	/hold         <Play loop="0"> the audio file: the call is held with audio until the caller hangs up
//	/ivr          <Gather numDigits="1"> over a prompt; /ivr-done says the key and hangs up
//	/record       <Say> then <Record maxLength="4">; /record-done hangs up
//	/enqueue      <Enqueue> into queue "bench" (built-in hold music) until the caller hangs up
//	/conference   <Dial><Conference beep="false"> into room "size-K-I": K is the size query
//	              parameter (default 3), I = (n-1)/K where n is the number the caller's From
//	              ends with (bench/scenarios/uac_conference.xml sends conf<call number>), so
//	              callers 1..K share a room, K+1..2K the next, and so on (bench/conference.sh)
//	/dial?to=URI  <Dial><Sip>URI</Sip></Dial>: bridges the caller to a SIP endpoint
//	/audio.wav    the -audio file (8 kHz WAV)
package main

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to serve on (loopback only)")
	audio := flag.String("audio", "", "WAV file served as /audio.wav (required)")
	flag.Parse()
	if err := run(*listen, *audio); err != nil {
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(1)
	}
}

func run(listen, audioPath string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen %q: only loopback addresses are allowed", listen)
	}
	if audioPath == "" {
		return errors.New("-audio is required")
	}
	wav, err := os.ReadFile(audioPath)
	if err != nil {
		return fmt.Errorf("read audio: %w", err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: newHandler(wav), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.Info("webapp serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// documents are the TwiML documents by path; immutable.
var documents = map[string]string{
	"/say-hangup": `<Response><Say>Hello from Voxgate.</Say><Hangup/></Response>`,
	"/hold":       `<Response><Play loop="0">/audio.wav</Play></Response>`,
	"/ivr": `<Response><Gather numDigits="1" timeout="10" action="/ivr-done">` +
		`<Say>Press a key.</Say></Gather><Say>No key.</Say><Hangup/></Response>`,
	"/record":      `<Response><Say>Leave a message.</Say><Record maxLength="4" timeout="10" action="/record-done"/></Response>`,
	"/record-done": `<Response><Hangup/></Response>`,
	"/enqueue":     `<Response><Enqueue>bench</Enqueue></Response>`,
}

// newHandler serves the documents, /ivr-done (which echoes Digits),
// /conference (rooms by size), /dial (which dials its "to") and the audio file.
func newHandler(wav []byte) http.Handler {
	mux := http.NewServeMux()
	for path, doc := range documents {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { writeTwiML(w, doc) })
	}
	mux.HandleFunc("/ivr-done", func(w http.ResponseWriter, r *http.Request) {
		var digits strings.Builder
		_ = xml.EscapeText(&digits, []byte(r.FormValue("Digits")))
		writeTwiML(w, "<Response><Say>You pressed "+digits.String()+".</Say><Hangup/></Response>")
	})
	mux.HandleFunc("/conference", func(w http.ResponseWriter, r *http.Request) {
		writeTwiML(w, `<Response><Dial><Conference beep="false" maxParticipants="250">`+
			conferenceRoom(r.FormValue("size"), r.FormValue("From"))+`</Conference></Dial></Response>`)
	})
	mux.HandleFunc("/dial", func(w http.ResponseWriter, r *http.Request) {
		var to strings.Builder
		_ = xml.EscapeText(&to, []byte(r.FormValue("to")))
		writeTwiML(w, "<Response><Dial><Sip>"+to.String()+"</Sip></Dial></Response>")
	})
	mux.HandleFunc("/audio.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(wav)
	})
	return mux
}

func writeTwiML(w http.ResponseWriter, doc string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + doc))
}

// conferenceRoom names the room of the caller whose From ends with the
// number n, in rooms of size callers: "size-K-I" with I = (n-1)/K. A size
// outside 1-250 is 3; a From without a number is caller 1.
func conferenceRoom(size, from string) string {
	k, err := strconv.Atoi(size)
	if err != nil || k < 1 || k > 250 {
		k = 3
	}
	digits := len(from)
	for digits > 0 && from[digits-1] >= '0' && from[digits-1] <= '9' {
		digits--
	}
	n, err := strconv.Atoi(from[digits:])
	if err != nil || n < 1 {
		n = 1
	}
	return fmt.Sprintf("size-%d-%d", k, (n-1)/k)
}
