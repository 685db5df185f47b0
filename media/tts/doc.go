// Package tts speaks <Say> text with espeak-ng and caches the result.
//
// [Engine.Render] returns 8 kHz mono int16 samples (package media's
// format). The espeak-ng voice is chosen from Twilio's voice and language
// attributes by [Engine.VoiceFor] (spec §6.2): an unknown voice or language
// falls back with a 13511 warning and never fails the call.
//
// espeak-ng runs as a child process (never through a shell): the text goes
// in on standard input, so quotes, newlines and a leading '-' are spoken as
// written; the 22050 Hz WAV it writes to standard output is resampled to
// 8 kHz by package audio. Cancelling the context kills the process.
//
// Prompts repeat constantly in IVRs, so renders are cached by (espeak-ng
// voice, rate, text): in memory (an LRU bounded in bytes) in front of
// <CacheDir>/tts/<sha256>.wav (8 kHz 16-bit WAV, written to a temporary
// file and renamed, so a half-written file is never visible). Concurrent
// renders of the same prompt share one espeak-ng process.
//
// Usage:
//
//	eng, err := tts.New(tts.Options{CacheDir: "/var/lib/voxgate"})
//	pcm, warn, err := eng.Render(ctx, "Press one for sales.", "Polly.Joanna", "")
//	if warn != "" {
//		log.Warn(warn) // e.g. "13511 Say: invalid voice: …"
//	}
//	src := audio.NewPCMSource(pcm, 1)
//
// The returned samples are shared with the cache and must not be modified.
// espeak-ng must be installed (Debian: apt-get install espeak-ng).
package tts
