// Command functions measures hosted Twilio Functions: requests per second
// and p50/p99 latency of a function returning TwiML, served by Voxgate's
// runner (package functions, warm Node.js workers behind the Go HTTP
// server) and, side by side, by Twilio's published local emulator
// (@twilio/runtime-handler's LocalDevelopmentServer, in-process mode) on
// the same project. It also times the deploy and the first request after
// it (no cold start). Everything runs on 127.0.0.1.
//
//	go run ./bench/functions [-n 3000] [-c 1,8]
//
// Run from the repository root after make deps-test (it needs
// functions/runtime and functions/oracle installed).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/functions"
)

const (
	account = "AC11111111111111111111111111111111"
	token   = "22222222222222222222222222222222"
	project = "functions/testdata/project"
	path    = "/voice/menu"
)

func main() {
	n := flag.Int("n", 3000, "requests per measurement")
	levels := flag.String("c", "1,8", "concurrency levels, comma-separated")
	workers := flag.Int("workers", functions.DefaultWorkers, "Voxgate workers per deployment")
	flag.Parse()
	if err := run(*n, *levels, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "bench/functions:", err)
		os.Exit(1)
	}
}

func run(n int, levels string, workers int) error {
	dir, err := os.MkdirTemp("", "voxgate-bench-functions")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	m, err := functions.New(context.Background(), functions.Options{AccountSID: account, AuthToken: token, PublicURL: srv.URL,
		Dir: dir, RuntimeDir: "functions/runtime", Workers: workers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer m.Close()
	mux.Handle("/v1/Services", m.APIHandler())
	mux.Handle("/v1/Services/", m.APIHandler())
	mux.Handle("/fn/", m.Handler())

	p, err := functions.ReadProject(project)
	if err != nil {
		return err
	}
	start := time.Now()
	if _, err := functions.Deploy(context.Background(), functions.DeployOptions{BaseURL: srv.URL, AccountSID: account, AuthToken: token,
		Service: "bench", Dir: project}); err != nil {
		return err
	}
	deployed := time.Since(start)
	target := srv.URL + "/fn/bench" + path
	first, err := once(http.DefaultClient, target)
	if err != nil {
		return err
	}
	fmt.Printf("deploy (service, %d files, build, %d warm workers): %v; first request after it: %v\n\n",
		len(p.Functions)+len(p.Assets), workers, deployed.Round(time.Millisecond), first.Round(10*time.Microsecond))

	emu, stop, err := startEmulator()
	if err != nil {
		return err
	}
	defer stop()

	fmt.Printf("%-34s %5s %8s %10s %9s %9s\n", "server", "conc", "requests", "req/s", "p50", "p99")
	for _, l := range strings.Split(levels, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || c < 1 {
			return fmt.Errorf("bad concurrency %q", l)
		}
		for _, s := range []struct{ name, url string }{{"voxgate (functions runner)", target}, {"twilio runtime-handler emulator", emu + path}} {
			r, err := load(s.url, n, c)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			fmt.Printf("%-34s %5d %8d %10.0f %9v %9v\n", s.name, c, n, r.rate, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond))
		}
	}
	return nil
}

// once times one POST of a webhook-like form.
func once(c *http.Client, target string) (time.Duration, error) {
	form := url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {"+15550001111"}, "To": {"+15550001000"}}
	start := time.Now()
	resp, err := c.PostForm(target, form)
	if err != nil {
		return 0, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "<Gather") {
		return 0, fmt.Errorf("%s: %d %s", target, resp.StatusCode, b)
	}
	return time.Since(start), nil
}

type result struct {
	rate     float64
	p50, p99 time.Duration
}

// load sends n requests from c clients and measures each.
func load(target string, n, c int) (result, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}}
	for range 50 { // warm up the connections and the JIT
		if _, err := once(client, target); err != nil {
			return result{}, err
		}
	}
	var (
		mu    sync.Mutex
		lat   []time.Duration
		first error
		wg    sync.WaitGroup
	)
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				d, err := once(client, target)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return result{}, first
	}
	slices.Sort(lat)
	return result{rate: float64(n) / elapsed.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100]}, nil
}

// startEmulator serves the project with Twilio's emulator
// (functions/oracle/serve.js) and returns its base URL.
func startEmulator() (string, func(), error) {
	dir, _ := filepath.Abs(project)
	p, err := functions.ReadProject(dir)
	if err != nil {
		return "", nil, err
	}
	routes := func(files []functions.ProjectFile) []map[string]string {
		out := []map[string]string{}
		for _, f := range files {
			out = append(out, map[string]string{"name": f.Path, "path": f.Path, "access": f.Visibility, "filePath": f.File})
		}
		return out
	}
	env := map[string]string{"ACCOUNT_SID": account, "AUTH_TOKEN": token}
	for k, v := range p.Variables {
		env[k] = v
	}
	in, _ := json.Marshal(map[string]any{"baseDir": dir, "env": env, "functions": routes(p.Functions), "assets": routes(p.Assets)})
	cmd := exec.Command("node", "functions/oracle/serve.js")
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Stderr = os.Stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		stop()
		return "", nil, fmt.Errorf("the emulator did not start (make deps-test installs it)")
	}
	var ready struct{ Port int }
	if err := json.Unmarshal(sc.Bytes(), &ready); err != nil {
		stop()
		return "", nil, fmt.Errorf("the emulator said %q", sc.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return fmt.Sprintf("http://127.0.0.1:%d", ready.Port), stop, nil
}
