// Package audio turns fetched audio files into Voxgate's internal format
// (8 kHz mono int16, see package media) and back, and provides the simple
// sources the call engine plays.
//
// Decoding: [Decode] sniffs the container (RIFF/WAVE, AIFF/AIFC, Sun .au,
// ID3/MPEG audio) and only trusts the Content-Type for headerless formats
// (raw μ-law, raw A-law, audio/L16). Every decode failure wraps
// [ErrUnsupported], which the engine maps to Twilio error 12300/13420.
// Whatever the input rate and channel count, the result is downmixed to mono
// and resampled to 8 kHz with a Kaiser-windowed sinc filter ([Resample]).
//
// Encoding: [EncodeWAV] builds a whole 16-bit PCM WAV in memory;
// [WAVWriter] streams one to a file for recordings.
//
// Sources: [PCMSource] plays decoded samples (optionally looped) without
// allocating; [Silence] and [Tone] synthesise audio; [Concat] chains
// sources; [ReadAll] renders a finite source into a slice so it can be
// looped cheaply with [NewPCMSource].
package audio
