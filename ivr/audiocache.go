package ivr

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voxgate/voxgate/internal/atomicfile"
	"github.com/voxgate/voxgate/media/audio"
)

// maxMediaBytes bounds a <Play> download (about 40 minutes of 16-bit 8 kHz
// WAV, or far longer MP3).
const maxMediaBytes = 64 << 20

// AudioCache fetches <Play> media over HTTP and keeps it decoded, honouring
// HTTP caching (Cache-Control max-age, ETag and Last-Modified revalidation).
// Downloads are also kept on disk, so a restart revalidates instead of
// downloading again. It is safe for concurrent use.
type AudioCache struct {
	client   *http.Client
	dir      string // "" = memory only
	maxBytes int

	mu      sync.Mutex
	entries map[string]*list.Element // by URL
	lru     *list.List               // of *cacheEntry, most recent first
	size    int                      // bytes of decoded audio held
}

type cacheEntry struct {
	url     string
	pcm     []int16
	meta    cacheMeta
	expires time.Time
}

// cacheMeta is what is kept beside a downloaded file on disk.
type cacheMeta struct {
	URL          string `json:"url"`
	ContentType  string `json:"content_type"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// NewAudioCache returns a cache keeping at most maxBytes of decoded audio in
// memory (default 256 MB), and downloads under dir when dir is not empty.
func NewAudioCache(client *http.Client, dir string, maxBytes int) (*AudioCache, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	if maxBytes <= 0 {
		maxBytes = 256 << 20
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("audio cache: %w", err)
		}
	}
	return &AudioCache{client: client, dir: dir, maxBytes: maxBytes, entries: map[string]*list.Element{}, lru: list.New()}, nil
}

// Fetch returns the decoded audio at url.
func (c *AudioCache) Fetch(ctx context.Context, url string) ([]int16, error) {
	c.mu.Lock()
	var old *cacheEntry
	if el, ok := c.entries[url]; ok {
		old = el.Value.(*cacheEntry)
		if time.Now().Before(old.expires) {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return old.pcm, nil
		}
	}
	c.mu.Unlock()
	if old == nil {
		old = c.fromDisk(url)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("play %s: %w", url, err)
	}
	req.Header.Set("Accept", "audio/*, */*;q=0.5")
	if old != nil {
		if old.meta.ETag != "" {
			req.Header.Set("If-None-Match", old.meta.ETag)
		}
		if old.meta.LastModified != "" {
			req.Header.Set("If-Modified-Since", old.meta.LastModified)
		}
	}
	res, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("play %s: %w", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotModified && old != nil {
		old.expires = expiry(res.Header)
		c.store(old)
		return old.pcm, nil
	}
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("play %s: HTTP status %d", url, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxMediaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("play %s: read: %w", url, err)
	}
	if len(body) > maxMediaBytes {
		return nil, fmt.Errorf("play %s: media larger than %d MB", url, maxMediaBytes>>20)
	}
	ct := res.Header.Get("Content-Type")
	pcm, err := audio.Decode(body, ct)
	if err != nil {
		return nil, fmt.Errorf("play %s (Content-Type %q): %w", url, ct, err)
	}
	e := &cacheEntry{
		url:     url,
		pcm:     pcm,
		meta:    cacheMeta{URL: url, ContentType: ct, ETag: res.Header.Get("ETag"), LastModified: res.Header.Get("Last-Modified")},
		expires: expiry(res.Header),
	}
	c.store(e)
	c.toDisk(e, body)
	return pcm, nil
}

// expiry reads Cache-Control max-age; without it a file is revalidated on
// every use (cheap when the server answers 304).
func expiry(h http.Header) time.Time {
	for _, d := range strings.Split(h.Get("Cache-Control"), ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		if d == "no-store" || d == "no-cache" {
			return time.Time{}
		}
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return time.Now().Add(time.Duration(n) * time.Second)
			}
		}
	}
	return time.Time{}
}

func (c *AudioCache) store(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.url]; ok {
		c.size -= 2 * len(el.Value.(*cacheEntry).pcm)
		c.lru.Remove(el)
	}
	c.entries[e.url] = c.lru.PushFront(e)
	c.size += 2 * len(e.pcm)
	for c.size > c.maxBytes && c.lru.Len() > 1 {
		last := c.lru.Back()
		le := last.Value.(*cacheEntry)
		c.lru.Remove(last)
		delete(c.entries, le.url)
		c.size -= 2 * len(le.pcm)
	}
}

func (c *AudioCache) paths(url string) (data, meta string) {
	sum := sha256.Sum256([]byte(url))
	base := filepath.Join(c.dir, hex.EncodeToString(sum[:]))
	return base + ".media", base + ".json"
}

func (c *AudioCache) fromDisk(url string) *cacheEntry {
	if c.dir == "" {
		return nil
	}
	dataPath, metaPath := c.paths(url)
	raw, err := os.ReadFile(metaPath)
	if err != nil {
		return nil
	}
	var m cacheMeta
	if json.Unmarshal(raw, &m) != nil || m.URL != url {
		return nil
	}
	body, err := os.ReadFile(dataPath)
	if err != nil {
		return nil
	}
	pcm, err := audio.Decode(body, m.ContentType)
	if err != nil {
		return nil
	}
	return &cacheEntry{url: url, pcm: pcm, meta: m}
}

// toDisk keeps the download; files appear whole (temp file + rename).
func (c *AudioCache) toDisk(e *cacheEntry, body []byte) {
	if c.dir == "" {
		return
	}
	dataPath, metaPath := c.paths(e.url)
	meta, _ := json.Marshal(e.meta)
	_ = atomicfile.Write(dataPath, body)
	_ = atomicfile.Write(metaPath, meta)
}
