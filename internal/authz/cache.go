package authz

import (
	"sync"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/policy"
)

// facts are what the database says a user holds in an organization, as of
// the two epochs they were read under.
type facts struct {
	orgEpoch, userEpoch int64
	member              bool
	granted             policy.Set
	modules             policy.ModuleSet
	// grantedBy names, per granted permission, a role that grants it.
	grantedBy map[policy.Permission]string
}

type cacheKey struct{ user, org uuid.UUID }

// Cache keeps facts per (user, organization) in this process. An entry is
// used only while both epochs the request reads are the ones it was stored
// under, so a change anywhere (another replica included) is seen on the
// very next request: there is no TTL to wait out. It holds at most max
// entries; when full, an arbitrary entry makes room.
type Cache struct {
	mu      sync.Mutex
	max     int
	entries map[cacheKey]facts
	// callers are signed-in callers by session, as last loaded. Only a
	// request whose transactions check them (store.Guard) uses them.
	callers map[uuid.UUID]Caller
}

// NewCache returns a cache of at most max entries.
func NewCache(max int) *Cache {
	return &Cache{max: max, entries: make(map[cacheKey]facts, min(max, 1024)),
		callers: make(map[uuid.UUID]Caller, min(max, 1024))}
}

func (c *Cache) get(k cacheKey, orgEpoch, userEpoch int64) (facts, bool) {
	if c == nil {
		return facts{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.entries[k]
	if !ok || f.orgEpoch != orgEpoch || f.userEpoch != userEpoch {
		return facts{}, false
	}
	return f, true
}

// peek returns the entry for k whatever its epochs: the caller must have
// them checked (store.Guard).
func (c *Cache) peek(k cacheKey) (facts, bool) {
	if c == nil {
		return facts{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.entries[k]
	return f, ok
}

func (c *Cache) caller(session uuid.UUID) (Caller, bool) {
	if c == nil {
		return Caller{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.callers[session]
	return cl, ok
}

func (c *Cache) putCaller(cl Caller) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.callers[cl.SessionID]; !ok && len(c.callers) >= c.max {
		for old := range c.callers {
			delete(c.callers, old)
			break
		}
	}
	c.callers[cl.SessionID] = cl
}

// noteSole records, on cl's cached entry, that org is cl's only
// organization.
func (c *Cache) noteSole(cl Caller, org uuid.UUID) {
	if c == nil || cl.SessionID == uuid.Nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cached, ok := c.callers[cl.SessionID]; ok && cached.UserID == cl.UserID {
		cached.soleOrg = org
		c.callers[cl.SessionID] = cached
	}
}

func (c *Cache) put(k cacheKey, f facts) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		for old := range c.entries { // Go's map order is random enough
			delete(c.entries, old)
			break
		}
	}
	c.entries[k] = f
}

// Len returns how many entries the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
