// Command rtpstat reads a packet capture of a load test (classic pcap:
// `dumpcap -P`) and reports how the gateway sent RTP, as its callers
// received it:
//
//   - send-interval jitter: for every two consecutive packets of a stream
//     (same source port and SSRC, sequence numbers n and n+1), how far
//     their spacing strays from 20 ms; p50, p99 and max over all streams;
//   - loss: sequence numbers missing from a stream, and frames the sender
//     skipped (the timestamp jumped further than one frame);
//   - first-RTP and first-audio latency: from each 200 OK the gateway
//     sent (found by its Call-ID; the SDP names the RTP port) to the next
//     RTP packet from that port, and to the first one that is not encoded
//     silence (needs a snap length that keeps some payload: -s 96).
//
// Capture timestamps on lo are taken as the sender hands a packet to the
// kernel, so the figures are the gateway's pacing, undisturbed by how
// quickly the receiving peer gets scheduled.
//
//	dumpcap -i lo -P -f 'udp and src port 5060' -w sip.pcap &
//	dumpcap -i lo -P -s 96 -f 'udp and src portrange 20000-29999' -w rtp.pcap &
//	go run ./bench/rtpstat -sip-port 5060 -rtp-ports 20000-29999 sip.pcap rtp.pcap
//
// Several captures are merged by time; SIP needs whole packets, RTP only
// its headers and a little payload.
//
// Output is one "key value" pair per line, for scripts.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	sipPort := flag.Uint("sip-port", 5060, "the gateway's SIP port")
	rtpPorts := flag.String("rtp-ports", "20000-30000", "the gateway's RTP port range, lo-hi")
	jitterFrom := flag.Float64("jitter-from", 0, "count jitter only for packets captured after this Unix time (seconds; 0 = all)")
	timeline := flag.Bool("timeline", false, "also print, per 100 ms of capture, the intervals, how many strayed over 2 ms, and the worst")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: rtpstat [flags] capture.pcap...")
		os.Exit(2)
	}
	lo, hi, err := parseRange(*rtpPorts)
	if err != nil || *sipPort == 0 || *sipPort > 65535 {
		fmt.Fprintln(os.Stderr, "rtpstat: bad -sip-port or -rtp-ports:", err)
		os.Exit(2)
	}
	cfg := analyzerConfig{sipPort: uint16(*sipPort), rtpLo: lo, rtpHi: hi, frame: 20 * time.Millisecond, timeline: *timeline}
	if *jitterFrom > 0 {
		cfg.jitterFrom = time.Unix(0, int64(*jitterFrom*1e9))
	}
	a, err := analyzeFiles(flag.Args(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpstat:", err)
		os.Exit(1)
	}
	a.report(os.Stdout)
	if *timeline {
		a.reportTimeline(os.Stdout)
	}
}

func parseRange(s string) (lo, hi uint16, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("port range %q: want lo-hi", s)
	}
	l, err1 := strconv.ParseUint(a, 10, 16)
	h, err2 := strconv.ParseUint(b, 10, 16)
	if err := errors.Join(err1, err2); err != nil || l > h {
		return 0, 0, fmt.Errorf("port range %q: want lo-hi", s)
	}
	return uint16(l), uint16(h), nil
}

// analyzeFiles analyzes captures taken at the same time (for example SIP
// with a large snap length and RTP with a small one), merged by time.
func analyzeFiles(paths []string, cfg analyzerConfig) (*analyzer, error) {
	var readers []io.Reader
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		readers = append(readers, f)
	}
	return analyze(readers, cfg)
}

// cursor is one capture's next packet during a merge.
type cursor struct {
	r     *pcapReader
	at    time.Time
	frame []byte
	done  bool
}

func (c *cursor) advance() error {
	at, frame, err := c.r.next()
	if errors.Is(err, io.EOF) {
		c.done = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("read capture: %w", err)
	}
	c.at, c.frame = at, frame
	return nil
}

// analyze runs every UDP packet of the captures, in time order, through a
// new analyzer.
func analyze(rs []io.Reader, cfg analyzerConfig) (*analyzer, error) {
	cursors := make([]*cursor, 0, len(rs))
	for _, r := range rs {
		pr, err := newPcapReader(r)
		if err != nil {
			return nil, err
		}
		c := &cursor{r: pr}
		if err := c.advance(); err != nil {
			return nil, err
		}
		cursors = append(cursors, c)
	}
	a := newAnalyzer(cfg)
	for {
		var first *cursor
		for _, c := range cursors {
			if !c.done && (first == nil || c.at.Before(first.at)) {
				first = c
			}
		}
		if first == nil {
			return a, nil
		}
		if u, ok := first.r.parseUDP(first.frame); ok {
			a.packet(first.at, u)
		}
		if err := first.advance(); err != nil {
			return nil, err
		}
	}
}

// report writes the results as "key value" lines.
func (a *analyzer) report(w io.Writer) {
	us := func(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) }
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }
	lines := [][2]string{
		{"streams", strconv.Itoa(len(a.streams))},
		{"packets", strconv.FormatUint(a.packets, 10)},
		{"seq_lost", strconv.FormatUint(a.seqLost, 10)},
		{"skipped_frames", strconv.FormatUint(a.skipped, 10)},
		{"reordered", strconv.FormatUint(a.reordered, 10)},
		{"jitter_samples", strconv.FormatUint(a.jitter.count, 10)},
		{"jitter_p50_us", us(a.jitter.quantile(0.50))},
		{"jitter_p99_us", us(a.jitter.quantile(0.99))},
		{"jitter_p999_us", us(a.jitter.quantile(0.999))},
		{"jitter_max_us", us(a.jitter.max)},
		{"answers", strconv.FormatUint(a.firstRTP.count, 10)},
		{"first_rtp_p50_ms", ms(a.firstRTP.quantile(0.50))},
		{"first_rtp_p99_ms", ms(a.firstRTP.quantile(0.99))},
		{"first_rtp_max_ms", ms(a.firstRTP.max)},
		{"first_audio_calls", strconv.FormatUint(a.firstAudio.count, 10)},
		{"first_audio_p50_ms", ms(a.firstAudio.quantile(0.50))},
		{"first_audio_p99_ms", ms(a.firstAudio.quantile(0.99))},
		{"first_audio_max_ms", ms(a.firstAudio.max)},
	}
	for _, l := range lines {
		fmt.Fprintf(w, "%s %s\n", l[0], l[1])
	}
}

// reportTimeline writes one line per 100 ms window of capture time:
// "t <seconds from the first window> <intervals> <over 2 ms> <worst µs>".
func (a *analyzer) reportTimeline(w io.Writer) {
	keys := slices.Sorted(maps.Keys(a.timeline))
	for _, k := range keys {
		win := a.timeline[k]
		fmt.Fprintf(w, "t %.1f %d %d %d\n", float64(k-keys[0])*timelineWindow.Seconds(), win.intervals, win.over2ms, win.max.Microseconds())
	}
}
