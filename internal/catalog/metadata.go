package catalog

import (
	"context"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
)

// metaTTL is how long an account's module metadata (fields, layouts) is
// served from the cache: long enough that a conversation pays Zoho's
// credits for it once, short enough that a field an administrator adds
// shows up in minutes.
const metaTTL = 10 * time.Minute

// maxMetaEntries bounds the cache; past it, expired entries are dropped,
// and if none are, the oldest half of the cache with them.
const maxMetaEntries = 4096

// metaCache keeps each account's module metadata for metaTTL, shared by
// every surface of the process (the Executor holds one). Replicas keep
// their own. Failures are not kept.
type metaCache struct {
	now func() time.Time

	mu sync.Mutex
	m  map[metaKey]*metaEntry
}

// metaKey names one kind of metadata of one module of one account.
type metaKey struct {
	account, module, kind string
}

type metaEntry struct {
	fields  []bigin.Field
	layouts []bigin.Layout
	zgid    string // the organization's (metaOrg), for links to records
	expires time.Time
}

// The kinds of metadata.
const (
	metaFields  = "fields"
	metaLayouts = "layouts"
)

func newMetaCache(now func() time.Time) *metaCache {
	return &metaCache{now: now, m: map[metaKey]*metaEntry{}}
}

// metadata returns a kind of the module's metadata (metaFields: its
// fields; metaLayouts: its layouts, for Pipelines its team pipelines),
// from the account's cache or from Zoho.
func (c *Call) metadata(ctx context.Context, module, kind string) (*metaEntry, error) {
	return c.meta.get(ctx, metaKey{c.account, module, kind}, func(ctx context.Context) (*metaEntry, error) {
		var e metaEntry
		var err error
		if kind == metaFields {
			e.fields, err = c.Client.Fields(ctx, module)
		} else {
			e.layouts, err = c.Client.Layouts(ctx, module)
		}
		return &e, err
	})
}

// get returns the entry under k while it is fresh, else loads and keeps
// it. Two calls that miss at once both load (metadata reads are cheap
// and idempotent); the later one is kept.
func (m *metaCache) get(ctx context.Context, k metaKey, load func(context.Context) (*metaEntry, error)) (*metaEntry, error) {
	now := m.now()
	m.mu.Lock()
	e := m.m[k]
	m.mu.Unlock()
	if e != nil && now.Before(e.expires) {
		return e, nil
	}
	e, err := load(ctx)
	if err != nil {
		return nil, err
	}
	e.expires = now.Add(metaTTL)
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= maxMetaEntries {
		m.pruneLocked(now)
	}
	m.m[k] = e
	return e, nil
}

// pruneLocked drops expired entries, and the older half when none are.
func (m *metaCache) pruneLocked(now time.Time) {
	for k, e := range m.m {
		if !now.Before(e.expires) {
			delete(m.m, k)
		}
	}
	if len(m.m) < maxMetaEntries {
		return
	}
	cut := now.Add(metaTTL / 2)
	for k, e := range m.m {
		if e.expires.Before(cut) {
			delete(m.m, k)
		}
	}
	if len(m.m) >= maxMetaEntries {
		clear(m.m)
	}
}
