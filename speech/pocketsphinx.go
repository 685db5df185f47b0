package speech

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/voxgate/voxgate/media/audio"
)

// Defaults for Pocketsphinx.
const (
	DefaultPocketsphinxBinary = "pocketsphinx_batch"
	DefaultPocketsphinxModel  = "/usr/share/pocketsphinx/model/en-us" // Debian's pocketsphinx-en-us
)

// Pocketsphinx is the offline recognizer: CMU PocketSphinx's US English
// model run by its batch decoder, one process per utterance. The model is
// wideband (16 kHz), so the call's 8 kHz audio is resampled to 16 kHz
// first. With hints, recognition is constrained to them (a JSGF grammar of
// the hint phrases: the caller says one of them; hints with words the dictionary
// lacks are left out, and $OOV_CLASS_DIGIT_SEQUENCE stands for spoken
// digits); without hints the general language model is used, which is far
// less accurate on telephone audio. PocketSphinx gives no confidence, so
// results have none (Twilio's Confidence is optional).
type Pocketsphinx struct {
	// Binary is the decoder; default DefaultPocketsphinxBinary.
	Binary string
	// ModelDir holds en-us/ (acoustic model), cmudict-en-us.dict and
	// en-us.lm.bin; default DefaultPocketsphinxModel.
	ModelDir string
	// TempDir holds each utterance's files while it is decoded; default
	// os.TempDir().
	TempDir string
	// Workers bounds concurrent decodes; default the number of CPUs.
	Workers int

	once  sync.Once
	dict  map[string]bool
	err   error
	slots chan struct{}
}

// maxUtteranceSamples bounds what a session keeps: DefaultMaxSpeechTime.
const maxUtteranceSamples = 8000 * 60

func (p *Pocketsphinx) init() error {
	p.once.Do(func() {
		if p.Binary == "" {
			p.Binary = DefaultPocketsphinxBinary
		}
		if p.ModelDir == "" {
			p.ModelDir = DefaultPocketsphinxModel
		}
		if p.Workers <= 0 {
			p.Workers = runtime.NumCPU()
		}
		p.slots = make(chan struct{}, p.Workers)
		if _, err := exec.LookPath(p.Binary); err != nil {
			p.err = fmt.Errorf("speech: pocketsphinx decoder: %w (install the Debian package pocketsphinx)", err)
			return
		}
		p.dict, p.err = loadDictionary(filepath.Join(p.ModelDir, "cmudict-en-us.dict"))
	})
	return p.err
}

// loadDictionary reads the words of a CMU pronouncing dictionary.
func loadDictionary(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("speech: pocketsphinx dictionary: %w (install the Debian package pocketsphinx-en-us)", err)
	}
	defer f.Close()
	words := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w, _, _ := strings.Cut(sc.Text(), " ")
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i] // alternative pronunciation: read(2)
		}
		if w != "" {
			words[w] = true
		}
	}
	return words, sc.Err()
}

// Start begins an utterance. Only English is supported.
func (p *Pocketsphinx) Start(ctx context.Context, opts Options) (Session, error) {
	if err := p.init(); err != nil {
		return nil, err
	}
	if l := strings.ToLower(opts.Language); l != "" && !strings.HasPrefix(l, "en") {
		return nil, fmt.Errorf("speech: pocketsphinx has only a US English model, not %q", opts.Language)
	}
	return &psSession{p: p, opts: opts, pcm: make([]int16, 0, 8000*5)}, nil
}

type psSession struct {
	p    *Pocketsphinx
	opts Options
	mu   sync.Mutex
	pcm  []int16
}

func (s *psSession) Write(pcm []int16) {
	s.mu.Lock()
	if len(s.pcm)+len(pcm) <= maxUtteranceSamples {
		s.pcm = append(s.pcm, pcm...)
	}
	s.mu.Unlock()
}

func (s *psSession) Partials() <-chan Partial { return closedPartials() }

func (s *psSession) Close() {}

// Finish decodes the utterance.
func (s *psSession) Finish(ctx context.Context) (Result, error) {
	s.mu.Lock()
	pcm := s.pcm
	s.mu.Unlock()
	if len(pcm) == 0 {
		return Result{}, nil
	}
	select {
	case s.p.slots <- struct{}{}:
		defer func() { <-s.p.slots }()
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	dir, err := os.MkdirTemp(s.p.TempDir, "voxgate-speech-")
	if err != nil {
		return Result{}, fmt.Errorf("speech: %w", err)
	}
	defer os.RemoveAll(dir)
	args, err := s.prepare(dir, pcm)
	if err != nil {
		return Result{}, err
	}
	cmd := exec.CommandContext(ctx, s.p.Binary, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return Result{}, fmt.Errorf("speech: %s: %w: %s", s.p.Binary, err, lastLine(out))
	}
	hyp, err := os.ReadFile(filepath.Join(dir, "hyp"))
	if err != nil {
		return Result{}, fmt.Errorf("speech: reading the hypothesis: %w", err)
	}
	return Result{Text: parseHypothesis(string(hyp))}, nil
}

// prepare writes the 16 kHz audio, the control file and the grammar, and
// returns the decoder's arguments.
func (s *psSession) prepare(dir string, pcm []int16) ([]string, error) {
	wide := audio.Resample(pcm, 8000, 16000)
	addNoiseFloor(wide)
	raw := make([]byte, 2*len(wide))
	for i, v := range wide {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
	}
	if err := os.WriteFile(filepath.Join(dir, "utt.raw"), raw, 0o600); err != nil {
		return nil, fmt.Errorf("speech: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ctl"), []byte("utt\n"), 0o600); err != nil {
		return nil, fmt.Errorf("speech: %w", err)
	}
	args := []string{
		"-adcin", "yes", "-cepdir", dir, "-cepext", ".raw", "-ctl", filepath.Join(dir, "ctl"),
		"-hyp", filepath.Join(dir, "hyp"), "-logfn", os.DevNull,
		"-hmm", filepath.Join(s.p.ModelDir, "en-us"), "-dict", filepath.Join(s.p.ModelDir, "cmudict-en-us.dict"),
	}
	if g := grammar(s.opts.Hints, s.p.dict); g != "" {
		path := filepath.Join(dir, "hints.jsgf")
		if err := os.WriteFile(path, []byte(g), 0o600); err != nil {
			return nil, fmt.Errorf("speech: %w", err)
		}
		return append(args, "-jsgf", path), nil
	}
	return append(args, "-lm", filepath.Join(s.p.ModelDir, "en-us.lm.bin")), nil
}

// digitWords are what $OOV_CLASS_DIGIT_SEQUENCE stands for.
const digitWords = "zero | oh | one | two | three | four | five | six | seven | eight | nine"

// grammar returns a JSGF grammar accepting one of the hint phrases whose
// words are all in dict, or "" when none are.
func grammar(hints []string, dict map[string]bool) string {
	var alts []string
	seen := map[string]bool{}
	for _, h := range hints {
		h = strings.TrimSpace(h)
		if strings.EqualFold(h, "$OOV_CLASS_DIGIT_SEQUENCE") {
			h = "(" + digitWords + ")+"
		} else if h = phrase(h, dict); h == "" {
			continue
		}
		if !seen[h] {
			seen[h] = true
			alts = append(alts, h)
		}
	}
	if len(alts) == 0 {
		return ""
	}
	return "#JSGF V1.0;\ngrammar hints;\npublic <hints> = " + strings.Join(alts, " | ") + ";\n"
}

// phrase normalizes a hint to dictionary words, or "" if one is missing.
func phrase(h string, dict map[string]bool) string {
	words := strings.FieldsFunc(strings.ToLower(h), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '\'')
	})
	for _, w := range words {
		if !dict[w] {
			return ""
		}
	}
	return strings.Join(words, " ")
}

// parseHypothesis reads "words here (utt -1234)" from the hyp file.
func parseHypothesis(hyp string) string {
	line, _, _ := strings.Cut(hyp, "\n")
	if i := strings.LastIndex(line, " ("); i >= 0 {
		line = line[:i]
	} else if strings.HasPrefix(line, "(") {
		line = ""
	}
	return strings.TrimSpace(line)
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// noiseAmplitude is the peak of the noise addNoiseFloor adds (uniform,
// about -46 dBFS RMS).
var noiseAmplitude = int32(300)

// addNoiseFloor adds faint white noise, the same every time (a fixed
// xorshift sequence). The model was trained on 16 kHz microphone audio:
// telephone audio resampled to 16 kHz has nothing above 4 kHz, and the
// model's upper mel filters then see near-zero energy whose logarithm
// swings with the smallest difference in the input, so silence and
// fricatives become words. A noise floor, as a real microphone has, makes
// the decoder stable (measured with espeak-ng words: 8 of 10 recognized
// without it, 10 of 10 with it).
func addNoiseFloor(pcm []int16) {
	x := uint32(2463534242)
	for i, v := range pcm {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		n := int32(x%uint32(2*noiseAmplitude+1)) - noiseAmplitude
		pcm[i] = int16(max(-32768, min(32767, int32(v)+n)))
	}
}
