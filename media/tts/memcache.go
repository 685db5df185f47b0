package tts

import (
	"container/list"
	"sync"
)

// memCache is an LRU of rendered prompts bounded by their size in bytes.
type memCache struct {
	mu    sync.Mutex
	limit int64 // bytes; 0 disables the cache
	used  int64
	order *list.List // of *memEntry, most recently used first
	items map[string]*list.Element
}

type memEntry struct {
	key string
	pcm []int16
}

func newMemCache(limit int64) *memCache {
	return &memCache{limit: limit, order: list.New(), items: map[string]*list.Element{}}
}

func sizeOf(pcm []int16) int64 { return int64(len(pcm)) * 2 }

// get returns a cached prompt and marks it recently used.
func (c *memCache) get(key string) ([]int16, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*memEntry).pcm, true
}

// put caches a prompt, evicting the least recently used ones to stay
// within the limit. A prompt larger than the whole limit is not cached.
func (c *memCache) put(key string, pcm []int16) {
	size := sizeOf(pcm)
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.limit {
		return
	}
	if el, ok := c.items[key]; ok {
		c.used -= sizeOf(el.Value.(*memEntry).pcm)
		c.order.Remove(el)
		delete(c.items, key)
	}
	for c.used+size > c.limit {
		oldest := c.order.Back()
		entry := oldest.Value.(*memEntry)
		c.order.Remove(oldest)
		delete(c.items, entry.key)
		c.used -= sizeOf(entry.pcm)
	}
	c.items[key] = c.order.PushFront(&memEntry{key: key, pcm: pcm})
	c.used += size
}
