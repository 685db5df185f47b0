// Command ngrelay loads rtpengine with bridged calls, as the reference for
// the CPU a relay spends per packet: for each call it asks rtpengine, over
// its ng control protocol (bencode over UDP), to relay between two
// endpoints of its own (offer, answer), then streams 20 ms PCMU packets
// both ways through it, 50 a second each way, like the two legs of a
// <Dial>. After the ramp it measures, over -measure seconds, the CPU
// time of -pid (rtpengine) and the packets that came through, prints
// "key value" lines, and deletes the calls.
//
//	rtpengine --foreground --log-stderr --table=-1 --interface=127.0.0.1 \
//	    --listen-ng=127.0.0.1:22222 --port-min=30000 --port-max=39999 &
//	go run ./bench/ngrelay -ng 127.0.0.1:22222 -pid $! -calls 500 -measure 10
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	ng := flag.String("ng", "127.0.0.1:22222", "rtpengine's ng control address")
	pid := flag.Int("pid", 0, "the relay's process ID, whose CPU time is measured (0: not measured)")
	calls := flag.Int("calls", 100, "bridged calls")
	rate := flag.Int("rate", 100, "calls set up per second")
	settle := flag.Duration("settle", 2*time.Second, "wait after the ramp before measuring")
	measure := flag.Duration("measure", 10*time.Second, "the measuring window")
	flag.Parse()
	if err := run(*ng, *pid, *calls, *rate, *settle, *measure); err != nil {
		fmt.Fprintln(os.Stderr, "ngrelay:", err)
		os.Exit(1)
	}
}

// leg is one endpoint of a bridged call: its socket and where it sends.
type leg struct {
	conn *net.UDPConn
	to   netip.AddrPort
	seq  uint16
	pkt  [12 + 160]byte
}

func run(ngAddr string, pid, calls, rate int, settle, measure time.Duration) error {
	ctl, err := newNG(ngAddr)
	if err != nil {
		return err
	}
	defer ctl.conn.Close()
	var received, sent atomic.Uint64
	legs := make([]*leg, 0, 2*calls)
	var wg sync.WaitGroup
	defer func() {
		for _, l := range legs {
			l.conn.Close()
		}
		wg.Wait()
	}()
	stop := make(chan struct{})
	var sendWG sync.WaitGroup
	defer func() { close(stop); sendWG.Wait() }()
	var mu sync.Mutex // legs, while the sender reads it
	sendWG.Go(func() { sender(stop, &mu, &legs, &sent) })

	start := time.Now()
	for i := range calls {
		if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
			time.Sleep(d)
		}
		a, b, err := bridge(ctl, i)
		if err != nil {
			return fmt.Errorf("call %d: %w", i, err)
		}
		for _, l := range []*leg{a, b} {
			wg.Go(func() { receive(l.conn, &received) })
		}
		mu.Lock()
		legs = append(legs, a, b)
		mu.Unlock()
	}
	fmt.Printf("calls %d\nsetup_seconds %.1f\n", calls, time.Since(start).Seconds())
	time.Sleep(settle)
	c0, r0, s0, t0 := cpuTicks(pid), received.Load(), sent.Load(), time.Now()
	time.Sleep(measure)
	c1, r1, s1, t1 := cpuTicks(pid), received.Load(), sent.Load(), time.Now()
	secs := t1.Sub(t0).Seconds()
	// Packets in flight at the window's edges make sent and received
	// differ by a few either way; loss shows over the whole run.
	fmt.Printf("window_seconds %.2f\npackets_sent %d\npackets_relayed %d\npackets_nominal %.0f\n",
		secs, s1-s0, r1-r0, float64(2*calls)*50*secs)
	if pid > 0 {
		cpu := float64(c1-c0) / clkTck
		fmt.Printf("relay_cpu_pct %.1f\nrelay_cpu_us_per_packet %.2f\n", 100*cpu/secs, cpu*1e6/float64(r1-r0))
	}
	time.Sleep(200 * time.Millisecond)
	fmt.Printf("run_packets_sent %d\nrun_packets_received %d\n", sent.Load(), received.Load())
	for i := range calls {
		if _, err := ctl.call(map[string]any{"command": "delete", "call-id": callID(i), "from-tag": "a"}); err != nil {
			return fmt.Errorf("delete call %d: %w", i, err)
		}
	}
	return nil
}

func callID(i int) string { return "ngrelay-" + strconv.Itoa(i) }

// bridge sets up call i: a socket for each side, an offer and an answer.
func bridge(ctl *ngClient, i int) (*leg, *leg, error) {
	a, err := newLeg(uint32(2*i + 1))
	if err != nil {
		return nil, nil, err
	}
	b, err := newLeg(uint32(2*i + 2))
	if err != nil {
		a.conn.Close()
		return nil, nil, err
	}
	offer, err := ctl.call(map[string]any{"command": "offer", "call-id": callID(i), "from-tag": "a",
		"sdp": sdp(a.conn), "replace": []string{"origin", "session-connection"}})
	if err == nil {
		b.to, err = sdpTarget(offer["sdp"]) // the offer goes to b: rtpengine's port for b
	}
	if err == nil {
		var answer map[string]string
		answer, err = ctl.call(map[string]any{"command": "answer", "call-id": callID(i), "from-tag": "a", "to-tag": "b",
			"sdp": sdp(b.conn), "replace": []string{"origin", "session-connection"}})
		if err == nil {
			a.to, err = sdpTarget(answer["sdp"])
		}
	}
	if err != nil {
		a.conn.Close()
		b.conn.Close()
		return nil, nil, err
	}
	return a, b, nil
}

func newLeg(ssrc uint32) (*leg, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	l := &leg{conn: c}
	l.pkt[0], l.pkt[1] = 0x80, 0
	binary.BigEndian.PutUint32(l.pkt[8:], ssrc)
	for i := 12; i < len(l.pkt); i++ {
		l.pkt[i] = 0x5a
	}
	return l, nil
}

func sdp(c *net.UDPConn) string {
	port := c.LocalAddr().(*net.UDPAddr).Port
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
}

// sdpTarget is the address an SDP body asks media to be sent to.
func sdpTarget(body string) (netip.AddrPort, error) {
	var ip netip.Addr
	var port uint64
	for line := range strings.SplitSeq(body, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "c=IN IP4 "); ok {
			ip, _ = netip.ParseAddr(rest)
		}
		if rest, ok := strings.CutPrefix(line, "m=audio "); ok {
			f, _, _ := strings.Cut(rest, " ")
			port, _ = strconv.ParseUint(f, 10, 16)
		}
	}
	if !ip.IsValid() || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("no audio address in the relay's SDP: %q", body)
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

// sender sends one packet per leg every 20 ms, spread over the period in
// 1 ms slots (as a gateway's scheduler does), until stop closes. Slots
// are due at absolute times: after a late wake-up the slots missed are
// served at once, so every leg sends its 50 packets a second.
func sender(stop <-chan struct{}, mu *sync.Mutex, legs *[]*leg, sent *atomic.Uint64) {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	start := time.Now()
	next := int64(0)
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		mu.Lock()
		ls := *legs
		mu.Unlock()
		for now := int64(time.Since(start) / time.Millisecond); next <= now; next++ {
			for i := int(next % 20); i < len(ls); i += 20 {
				l := ls[i]
				binary.BigEndian.PutUint16(l.pkt[2:], l.seq)
				binary.BigEndian.PutUint32(l.pkt[4:], uint32(l.seq)*160)
				l.seq++
				if _, err := l.conn.WriteToUDPAddrPort(l.pkt[:], l.to); err == nil {
					sent.Add(1)
				}
			}
		}
	}
}

func receive(c *net.UDPConn, n *atomic.Uint64) {
	buf := make([]byte, 1500)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
		n.Add(1)
	}
}

// clkTck is the kernel's clock tick for /proc/PID/stat (USER_HZ).
const clkTck = 100

func cpuTicks(pid int) uint64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.ParseUint(f[11], 10, 64) // field 14 of the whole line
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return ut + st
}

// ngClient speaks rtpengine's ng protocol: "cookie bencoded-dict".
type ngClient struct {
	conn *net.UDPConn
	n    int
	buf  []byte
}

func newNG(addr string) (*ngClient, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, err
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	return &ngClient{conn: c, buf: make([]byte, 65536)}, nil
}

// call sends one command and returns the reply's string values; a reply
// whose result is not "ok" is an error.
func (c *ngClient) call(cmd map[string]any) (map[string]string, error) {
	c.n++
	cookie := "c" + strconv.Itoa(c.n)
	msg := append([]byte(cookie+" "), bencode(cmd)...)
	for attempt := 0; attempt < 5; attempt++ {
		if _, err := c.conn.Write(msg); err != nil {
			return nil, err
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(time.Second))
		for {
			n, err := c.conn.Read(c.buf)
			if err != nil {
				break // timed out: send again
			}
			reply, ok := bytes.CutPrefix(c.buf[:n], []byte(cookie+" "))
			if !ok {
				continue // the answer to an earlier attempt
			}
			out, err := bdecodeDict(reply)
			if err != nil {
				return nil, err
			}
			if out["result"] != "ok" {
				return nil, fmt.Errorf("rtpengine %s: %s %s", cmd["command"], out["result"], out["error-reason"])
			}
			return out, nil
		}
	}
	return nil, errors.New("rtpengine does not answer on its ng port")
}

// bencode encodes strings, string lists and maps of them (keys sorted, as
// bencode requires).
func bencode(v any) []byte {
	var b bytes.Buffer
	var enc func(v any)
	str := func(s string) { b.WriteString(strconv.Itoa(len(s)) + ":" + s) }
	enc = func(v any) {
		switch v := v.(type) {
		case string:
			str(v)
		case []string:
			b.WriteByte('l')
			for _, s := range v {
				str(s)
			}
			b.WriteByte('e')
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sortStrings(keys)
			b.WriteByte('d')
			for _, k := range keys {
				str(k)
				enc(v[k])
			}
			b.WriteByte('e')
		}
	}
	enc(v)
	return b.Bytes()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// bdecodeDict decodes a bencoded dictionary, keeping its string values
// (nested values are skipped).
func bdecodeDict(b []byte) (map[string]string, error) {
	if len(b) == 0 || b[0] != 'd' {
		return nil, fmt.Errorf("ng reply is not a dictionary: %q", b)
	}
	out := map[string]string{}
	i := 1
	for i < len(b) && b[i] != 'e' {
		k, n, err := bstring(b[i:])
		if err != nil {
			return nil, err
		}
		i += n
		if i < len(b) && b[i] >= '0' && b[i] <= '9' {
			v, n, err := bstring(b[i:])
			if err != nil {
				return nil, err
			}
			out[k] = v
			i += n
			continue
		}
		n, err = bskip(b[i:])
		if err != nil {
			return nil, err
		}
		i += n
	}
	return out, nil
}

func bstring(b []byte) (string, int, error) {
	colon := bytes.IndexByte(b, ':')
	if colon < 0 {
		return "", 0, errors.New("bad bencode string")
	}
	n, err := strconv.Atoi(string(b[:colon]))
	if err != nil || colon+1+n > len(b) {
		return "", 0, errors.New("bad bencode string length")
	}
	return string(b[colon+1 : colon+1+n]), colon + 1 + n, nil
}

// bskip returns the length of the bencoded value at the start of b.
func bskip(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errors.New("truncated bencode")
	}
	switch c := b[0]; {
	case c >= '0' && c <= '9':
		_, n, err := bstring(b)
		return n, err
	case c == 'i':
		e := bytes.IndexByte(b, 'e')
		if e < 0 {
			return 0, errors.New("bad bencode integer")
		}
		return e + 1, nil
	case c == 'l' || c == 'd':
		i := 1
		for i < len(b) && b[i] != 'e' {
			n, err := bskip(b[i:])
			if err != nil {
				return 0, err
			}
			i += n
		}
		return i + 1, nil
	}
	return 0, fmt.Errorf("bad bencode value %q", b[0])
}
