// Command confmix measures the conference mixer in real time: it fills
// rooms with participants whose legs are in-process fakes (one driver
// goroutine writes every leg's 20 ms input frame and reads its output
// frame on a single ticker, standing in for the RTP stack), runs each
// step for a while and prints the CPU the process used and any loss.
// Steps grow until one loses audio.
//
//	go run ./bench/confmix                         # one core, rooms of 250
//	go run ./bench/confmix -size 3 -steps 30,150,300,600,1200
//
// Loss is what a listener would miss: output frames a leg found missing
// (underruns after the warm-up) and input frames dropped for lack of
// room; 0/0 is a pass. "late" counts the times a room's owner woke more
// than 100 ms late and skipped frames: on a shared box that is mostly the
// process not being scheduled at all (the fake legs' driver stalls with
// it, so no underrun shows), reported to show the box's load.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/voxgate/voxgate/conference"
	"github.com/voxgate/voxgate/media"
)

func main() {
	size := flag.Int("size", conference.MaxParticipants, "participants per room (at most 250)")
	steps := flag.String("steps", "50,100,250,300,500,1000,2000", "total participants of each step")
	secs := flag.Int("seconds", 8, "measured seconds per step (after 2 s of warm-up)")
	procs := flag.Int("procs", 1, "GOMAXPROCS: the cores the mixer may use")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	fmt.Printf("conference mixer, GOMAXPROCS=%d, rooms of up to %d, %d s per step\n", *procs, *size, *secs)
	fmt.Printf("%12s %6s %10s %14s %6s %10s %8s\n", "participants", "rooms", "CPU(core)", "µs CPU/part/s", "late", "underruns", "dropped")
	for _, s := range strings.Split(*steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "confmix: bad step %q\n", s)
			os.Exit(2)
		}
		r := run(n, min(*size, conference.MaxParticipants), time.Duration(*secs)*time.Second)
		perPart := r.cpu.Seconds() / r.wall.Seconds() / float64(n) * 1e6
		fmt.Printf("%12d %6d %9.1f%% %14.1f %6d %10d %8d\n", n, r.rooms, 100*r.cpu.Seconds()/r.wall.Seconds(), perPart, r.late, r.underruns, r.dropped)
		if r.underruns+r.dropped > 0 {
			fmt.Println("loss: stopping")
			return
		}
	}
}

type result struct {
	rooms                    int
	cpu, wall                time.Duration
	late, underruns, dropped uint64
}

// run holds n participants in rooms of size for d and measures them.
func run(n, size int, d time.Duration) result {
	m := conference.NewManager(conference.Options{Logger: slog.New(slog.DiscardHandler)})
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	legs := make([]*fakeLeg, n)
	parts := make([]*conference.Participant, n)
	var wg sync.WaitGroup
	for i := range legs {
		legs[i] = newFakeLeg(i)
		p, err := m.Join("ACbench", fmt.Sprintf("room-%d", i/size), conference.JoinOptions{
			Leg: legs[i], CallSID: fmt.Sprintf("CA%032d", i), StartConferenceOnEnter: true, Beep: "false",
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "confmix:", err)
			os.Exit(1)
		}
		parts[i] = p
		wg.Go(func() { p.Run(ctx) })
	}
	for _, l := range legs {
		<-l.ready
	}
	stop := make(chan struct{})
	driverDone := make(chan struct{})
	go drive(legs, stop, driverDone)
	time.Sleep(2 * time.Second) // warm-up: buffers fill
	before := stats(parts)
	late0 := lateTicks(parts, size)
	cpu0, t0 := cpuTime(), time.Now()
	time.Sleep(d)
	cpu1, t1 := cpuTime(), time.Now()
	after := stats(parts)
	late := lateTicks(parts, size) - late0
	close(stop)
	<-driverDone
	cancel()
	wg.Wait()
	return result{rooms: (n + size - 1) / size, cpu: cpu1 - cpu0, wall: t1.Sub(t0), late: late,
		underruns: after.Underruns - before.Underruns, dropped: after.Dropped - before.Dropped}
}

// lateTicks sums the rooms' late ticks.
func lateTicks(parts []*conference.Participant, size int) uint64 {
	var late uint64
	for i := 0; i < len(parts); i += size {
		late += uint64(parts[i].Room().LateTicks())
	}
	return late
}

// stats sums the participants' output underruns and input drops.
func stats(parts []*conference.Participant) media.JitterStats {
	var sum media.JitterStats
	for _, p := range parts {
		in, out := p.Stats()
		sum.Underruns += out.Underruns
		sum.Dropped += in.Dropped
	}
	return sum
}

// drive writes every leg's input frame and reads its output frame every
// 20 ms until stop.
func drive(legs []*fakeLeg, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	var out [media.FrameSamples]int16
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for _, l := range legs {
			_ = l.sink.WriteFrame(l.tone[:])
			_, _ = l.src.ReadFrame(out[:])
		}
	}
}

// fakeLeg is a media.Leg whose audio the driver moves.
type fakeLeg struct {
	tone  [media.FrameSamples]int16
	sink  media.Sink
	src   media.Source
	ready chan struct{} // closed once Record and Play have both started
	once  sync.Once
	mu    sync.Mutex
	n     int
}

func newFakeLeg(i int) *fakeLeg {
	l := &fakeLeg{ready: make(chan struct{})}
	f := 200 + float64(i%50)*20
	for k := range l.tone {
		l.tone[k] = int16(1000 * math.Sin(2*math.Pi*f*float64(k)/media.SampleRate))
	}
	return l
}

func (l *fakeLeg) started() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n++; l.n == 2 {
		close(l.ready)
	}
}

func (l *fakeLeg) Record(ctx context.Context, s media.Sink) error {
	l.sink = s
	l.started()
	<-ctx.Done()
	return nil
}

func (l *fakeLeg) Play(ctx context.Context, s media.Source) error {
	l.src = s
	l.started()
	<-ctx.Done()
	return nil
}

func (l *fakeLeg) DTMF() <-chan media.Digit               { return nil }
func (l *fakeLeg) SendDTMF(context.Context, string) error { return nil }
func (l *fakeLeg) Done() <-chan struct{}                  { return nil }
func (l *fakeLeg) Close(string) error                     { return nil }

// cpuTime is the CPU (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
