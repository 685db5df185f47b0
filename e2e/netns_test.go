package e2e

// A small lossy network for the gateway, built from Linux network
// namespaces the test creates (it runs as root, as CI does):
//
//	caller ns (SIPp, 10.77.0.1) ── veth ── relay ns ── veth ── gateway ns (voxgate, 10.77.0.2)
//
// The relay ns has no addresses: relay (below) bridges its two veth ends
// frame by frame, holding each frame for a random 0..maxDelay before
// passing it on, which makes jitter and reordering (this kernel has no
// netem). Loss is made by nftables rules in the gateway ns. The 10.77/16
// addresses exist only inside these namespaces; they are deleted when the
// test ends, even when it fails.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const netnsPrefix = "vgl"

// lossyNet is the three namespaces and the relay between them.
type lossyNet struct {
	caller, relayNS, gw string // namespace names
	callerIP, gwIP      string
	relay               *relay
}

// newLossyNet builds the namespaces, links them and starts the relay
// with the given maximum delay. Everything is removed at the end of the
// test.
func newLossyNet(t *testing.T, maxDelay time.Duration) *lossyNet {
	t.Helper()
	removeStaleNetns(t)
	id := fmt.Sprintf("%s%d-%d", netnsPrefix, os.Getpid(), rand.IntN(1000))
	n := &lossyNet{caller: id + "-c", relayNS: id + "-r", gw: id + "-g", callerIP: "10.77.0.1", gwIP: "10.77.0.2"}
	t.Cleanup(func() { // registered first: runs after everything running inside
		if n.relay != nil {
			n.relay.close()
		}
		for _, ns := range []string{n.caller, n.relayNS, n.gw} {
			_ = exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	for _, ns := range []string{n.caller, n.relayNS, n.gw} {
		mustRun(t, "ip", "netns", "add", ns)
		mustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	mustRun(t, "ip", "link", "add", "c0", "netns", n.caller, "type", "veth", "peer", "name", "c1", "netns", n.relayNS)
	mustRun(t, "ip", "link", "add", "g0", "netns", n.gw, "type", "veth", "peer", "name", "g1", "netns", n.relayNS)
	mustRun(t, "ip", "-n", n.caller, "addr", "add", n.callerIP+"/24", "dev", "c0")
	mustRun(t, "ip", "-n", n.gw, "addr", "add", n.gwIP+"/24", "dev", "g0")
	for _, l := range [][2]string{{n.caller, "c0"}, {n.gw, "g0"}, {n.relayNS, "c1"}, {n.relayNS, "g1"}} {
		mustRun(t, "ip", "-n", l[0], "link", "set", l[1], "up")
	}
	for _, l := range []string{"c1", "g1"} {
		mustRun(t, "ip", "-n", n.relayNS, "link", "set", l, "promisc", "on")
	}
	r, err := startRelay(n.relayNS, "c1", "g1", maxDelay)
	if err != nil {
		t.Fatalf("relay: %v", err)
	}
	n.relay = r
	return n
}

// lossSpec says what the network loses, in percent.
type lossSpec struct {
	sip, rtp int
	dropACKs bool // every SIP ACK the caller sends over UDP (payload "ACK ...")
	// The ports in use: the gateway's SIP port and RTP range ("lo-hi"),
	// the callers' SIP and RTP port ranges.
	gwSIP                         int
	gwRTP, callerSIPs, callerRTPs string
}

// setLoss installs the loss rules. Packets are dropped as they arrive at
// either end (input hooks of the gateway's and the caller's namespaces),
// as a network loses them: a drop on the way out would fail the sender's
// sendto with EPERM instead, which no real network does.
func (n *lossyNet) setLoss(t *testing.T, l lossSpec) {
	t.Helper()
	var gw, caller strings.Builder
	if l.dropACKs {
		fmt.Fprintf(&gw, "    udp dport %d @th,64,32 0x41434b20 counter drop\n", l.gwSIP)
	}
	fmt.Fprintf(&gw, "    udp dport %d numgen random mod 100 < %d counter drop\n", l.gwSIP, l.sip)
	fmt.Fprintf(&gw, "    tcp dport %d numgen random mod 100 < %d counter drop\n", l.gwSIP, l.sip)
	fmt.Fprintf(&gw, "    udp dport %s numgen random mod 100 < %d counter drop\n", l.gwRTP, l.rtp)
	fmt.Fprintf(&caller, "    udp dport %s numgen random mod 100 < %d counter drop\n", l.callerSIPs, l.sip)
	fmt.Fprintf(&caller, "    tcp sport %d numgen random mod 100 < %d counter drop\n", l.gwSIP, l.sip)
	fmt.Fprintf(&caller, "    udp dport %s numgen random mod 100 < %d counter drop\n", l.callerRTPs, l.rtp)
	for _, side := range []struct {
		ns    string
		rules string
	}{{n.gw, gw.String()}, {n.caller, caller.String()}} {
		table := fmt.Sprintf(`table inet voxgate_loss {
  chain in {
    type filter hook input priority 0; policy accept;
%s  }
}
`, side.rules)
		path := filepath.Join(t.TempDir(), "loss.nft")
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "ip", "netns", "exec", side.ns, "nft", "-f", path)
	}
}

// lossCounters returns nftables' ruleset with its counters (for the log).
func (n *lossyNet) lossCounters() string {
	var b strings.Builder
	for _, ns := range []string{n.gw, n.caller} {
		out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "table", "inet", "voxgate_loss").CombinedOutput()
		fmt.Fprintf(&b, "%s:\n%s", ns, out)
	}
	return b.String()
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// removeStaleNetns deletes namespaces left by earlier runs of this test
// binary that were killed before their cleanup (their pid is gone).
func removeStaleNetns(t *testing.T) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, netnsPrefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) == nil {
			continue
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
	}
}

// inNetns runs f on an OS thread switched into network namespace ns:
// sockets f opens belong to ns for their whole life. The thread is
// thrown away if it cannot be switched back.
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("setns back: %w", err))
			return // the thread stays locked and ends with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// listenIn opens a TCP listener inside namespace ns.
func listenIn(ns, addr string) (net.Listener, error) {
	var ln net.Listener
	err := inNetns(ns, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	return ln, err
}

// relay bridges two interfaces of its namespace at layer 2 through packet
// sockets, delaying every frame by a random 0..maxDelay (so frames also
// overtake each other).
type relay struct {
	ends     [2]*os.File
	maxDelay time.Duration
	wg       sync.WaitGroup
	frames   atomic.Int64
	pending  sync.WaitGroup
	closed   atomic.Bool
}

func startRelay(ns, ifA, ifB string, maxDelay time.Duration) (*relay, error) {
	r := &relay{maxDelay: maxDelay}
	err := inNetns(ns, func() error {
		for i, name := range []string{ifA, ifB} {
			f, err := packetSocket(name)
			if err != nil {
				return err
			}
			r.ends[i] = f
		}
		return nil
	})
	if err != nil {
		for _, f := range r.ends {
			if f != nil {
				f.Close()
			}
		}
		return nil, err
	}
	r.wg.Add(2)
	go r.forward(r.ends[0], r.ends[1])
	go r.forward(r.ends[1], r.ends[0])
	return r, nil
}

// packetSocket opens a non-blocking AF_PACKET socket bound to interface
// name that sees every frame arriving there but none it sends.
func packetSocket(name string) (*os.File, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, err
	}
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("PACKET_IGNORE_OUTGOING: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (r *relay) forward(in, out *os.File) {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := in.Read(buf)
		if err != nil {
			return // closed
		}
		frame := append([]byte(nil), buf[:n]...)
		fixChecksums(frame)
		r.frames.Add(1)
		delay := time.Duration(rand.Int64N(int64(r.maxDelay) + 1))
		r.pending.Add(1)
		time.AfterFunc(delay, func() {
			defer r.pending.Done()
			if !r.closed.Load() {
				_, _ = out.Write(frame)
			}
		})
	}
}

func (r *relay) close() {
	if r.closed.Swap(true) {
		return
	}
	for _, f := range r.ends {
		f.Close()
	}
	r.wg.Wait()
	r.pending.Wait()
}

// fixChecksums completes the UDP or TCP checksum of an IPv4 frame: a veth
// hands frames to packet sockets with the checksum left to "hardware"
// (only the pseudo-header sum filled in), and a frame sent on from a
// packet socket is checked by the receiver.
func fixChecksums(f []byte) {
	if len(f) < 14+20 || binary.BigEndian.Uint16(f[12:14]) != 0x0800 {
		return
	}
	ip := f[14:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if ihl < 20 || total > len(ip) || total < ihl || binary.BigEndian.Uint16(ip[6:8])&0x1fff != 0 {
		return
	}
	l4 := ip[ihl:total]
	var at int
	switch ip[9] {
	case 17:
		at = 6
	case 6:
		at = 16
	default:
		return
	}
	if len(l4) < at+2 {
		return
	}
	l4[at], l4[at+1] = 0, 0
	sum := uint32(0)
	for i := 12; i < 20; i += 2 { // source and destination addresses
		sum += uint32(binary.BigEndian.Uint16(ip[i : i+2]))
	}
	sum += uint32(ip[9]) + uint32(len(l4))
	for i := 0; i+1 < len(l4); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(l4[i : i+2]))
	}
	if len(l4)%2 == 1 {
		sum += uint32(l4[len(l4)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	c := ^uint16(sum)
	if c == 0 && ip[9] == 17 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(l4[at:], c)
}
