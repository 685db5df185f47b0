package recovery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Recording file layout: the gateway records 16-bit PCM at 8 kHz behind a
// canonical 44-byte WAV header, into a temporary file named
// ".rec-<RecordingSid>-<random>.wav" in the recordings directory, and
// renames it "<RecordingSid>.wav" when the recording ends. Until then the
// header's sizes are not final (and a two-channel recording's header still
// says one channel).
const (
	sampleRate     = 8000
	bytesPerSample = 2
	wavHeaderLen   = 44
)

// ErrNoAudio is returned by FinishRecording when a recording left no
// temporary file, or one without a single sample.
var ErrNoAudio = errors.New("recovery: no recorded audio")

// TempPattern is the glob matching the temporary files of recording recSID.
func TempPattern(dir, recSID string) string {
	return filepath.Join(dir, ".rec-"+recSID+"-*.wav")
}

// FinishRecording completes a recording whose process stopped before it
// ended: it takes the recording's temporary file in dir, writes the WAV
// header for the audio it holds (channels interleaved 16-bit channels at
// 8 kHz; a partial last frame is dropped), and renames it to
// dir/<recSID>.wav. It returns that path and the audio's length, or
// ErrNoAudio (having removed an empty temporary file). When several
// temporary files exist (never in practice) the largest is kept.
func FinishRecording(dir, recSID string, channels int) (string, time.Duration, error) {
	if channels != 1 && channels != 2 {
		return "", 0, fmt.Errorf("recovery: recording %s: %d channels", recSID, channels)
	}
	tmps, err := filepath.Glob(TempPattern(dir, recSID))
	if err != nil {
		return "", 0, fmt.Errorf("recovery: recording %s: %w", recSID, err)
	}
	tmp, size := largest(tmps)
	if tmp == "" {
		return "", 0, ErrNoAudio
	}
	block := int64(bytesPerSample * channels)
	data := max(size-wavHeaderLen, 0) / block * block
	if data == 0 {
		for _, t := range tmps {
			os.Remove(t)
		}
		return "", 0, ErrNoAudio
	}
	if err := writeHeader(tmp, channels, data); err != nil {
		return "", 0, fmt.Errorf("recovery: recording %s: %w", recSID, err)
	}
	final := filepath.Join(dir, recSID+".wav")
	if err := os.Rename(tmp, final); err != nil {
		return "", 0, fmt.Errorf("recovery: recording %s: %w", recSID, err)
	}
	for _, t := range tmps {
		if t != tmp {
			os.Remove(t)
		}
	}
	frames := data / block
	return final, time.Duration(frames) * time.Second / sampleRate, nil
}

// largest returns the biggest of files and its size ("" when none can be
// read).
func largest(files []string) (string, int64) {
	var best string
	var size int64 = -1
	for _, f := range files {
		fi, err := os.Stat(f)
		if err == nil && fi.Mode().IsRegular() && fi.Size() > size {
			best, size = f, fi.Size()
		}
	}
	return best, size
}

// writeHeader rewrites the 44-byte header of the PCM WAV at path for data
// bytes of channels channels, and cuts off a partial last frame.
func writeHeader(path string, channels int, data int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if data > 0xFFFFFFFF-wavHeaderLen {
		f.Close()
		return fmt.Errorf("%s: %d bytes of audio is more than a WAV file holds", path, data)
	}
	var h [wavHeaderLen]byte
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], uint32(data+wavHeaderLen-8))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16) // fmt chunk size
	le.PutUint16(h[20:], 1)  // PCM
	le.PutUint16(h[22:], uint16(channels))
	le.PutUint32(h[24:], sampleRate)
	le.PutUint32(h[28:], uint32(sampleRate*bytesPerSample*channels))
	le.PutUint16(h[32:], uint16(bytesPerSample*channels))
	le.PutUint16(h[34:], 8*bytesPerSample)
	copy(h[36:], "data")
	le.PutUint32(h[40:], uint32(data))
	_, err = f.WriteAt(h[:], 0)
	if err == nil {
		err = f.Truncate(wavHeaderLen + data)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
