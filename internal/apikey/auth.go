package apikey

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// errRefused is the one answer to every key that does not work: malformed,
// unknown, wrong secret, revoked, expired, or of a deactivated creator. It
// says no more, so a key cannot be probed.
var errRefused = qerr.New(qerr.Unauthenticated, "invalid API key")

// Facts are what a working key is: which key, acting for whom, where, with
// what scopes. The creator's permissions are not here: they are resolved
// per request, like the creator's own, and intersected with Scopes.
type Facts struct {
	KeyID   uuid.UUID
	OrgID   uuid.UUID
	Creator uuid.UUID
	Scopes  policy.Set
}

// Checker turns presented keys into facts and records their use.
type Checker struct {
	Store  *store.Store
	Now    func() time.Time
	Logger *slog.Logger

	mu      sync.Mutex
	touched map[uuid.UUID]time.Time
	wg      sync.WaitGroup
}

// touchEvery is how often a key's lastUsedAt is written at most: reads stay
// reads, and the field stays true to the minute.
const touchEvery = time.Minute

// Check parses raw (refusing a malformed key or bad checksum before any
// database work), finds the key inside its organization, compares the
// secret's hash in constant time, and refuses a revoked or expired key or
// one whose creator is deactivated. Every refusal is the same
// UNAUTHENTICATED.
func (c *Checker) Check(ctx context.Context, raw string) (Facts, error) {
	tok, err := Parse(raw)
	if err != nil {
		return Facts{}, errRefused
	}
	// One statement, so one round trip: app_enter and the lookup in one
	// pipeline, without BEGIN and COMMIT.
	var row store.GetAPIKeyForAuthRow
	err = c.Store.InOrgRead(ctx, tok.OrgID, uuid.Nil, func(q *store.Queries) error {
		var err error
		row, err = q.GetAPIKeyForAuth(ctx, store.GetAPIKeyForAuthParams{OrgID: tok.OrgID, Prefix: tok.PublicID})
		return err
	})
	if qerr.Is(err, qerr.NotFound) {
		return Facts{}, errRefused
	}
	if err != nil {
		return Facts{}, fmt.Errorf("look up API key: %w", err)
	}
	now := c.Now()
	switch {
	case subtle.ConstantTimeCompare(row.SecretHash, tok.SecretHash()) != 1,
		row.RevokedAt != nil,
		row.ExpiresAt != nil && !row.ExpiresAt.After(now),
		row.CreatorStatus != "ACTIVE":
		return Facts{}, errRefused
	}
	scopes, _, _ := policy.ParseSet(row.Permissions) // codes were checked when the key was made
	c.touch(tok.OrgID, row.ID, now)
	return Facts{KeyID: row.ID, OrgID: tok.OrgID, Creator: row.CreatedBy, Scopes: scopes}, nil
}

// touch records the key's use, at most once a minute per key in this
// process, after the request and off its path.
func (c *Checker) touch(org, key uuid.UUID, now time.Time) {
	c.mu.Lock()
	if c.touched == nil {
		c.touched = make(map[uuid.UUID]time.Time)
	}
	if last, ok := c.touched[key]; ok && now.Sub(last) < touchEvery {
		c.mu.Unlock()
		return
	}
	c.touched[key] = now
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := c.Store.InOrgTx(ctx, org, uuid.Nil, func(q *store.Queries) error {
			return q.TouchAPIKey(ctx, store.TouchAPIKeyParams{OrgID: org, ID: key, Now: now})
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			logger := c.Logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.Warn("record API key use", "api_key_id", key, "err", err)
		}
	}()
}

// Wait blocks until recorded uses are written.
func (c *Checker) Wait() { c.wg.Wait() }
