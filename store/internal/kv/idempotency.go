package kv

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// idempotencyKey is the table key of a scope's key: the SHA-256 of both,
// so that a key of any bytes has a short key of fixed length.
func idempotencyKey(scope, key string) string {
	h := sha256.Sum256([]byte(scope + "\x00" + key))
	return string(h[:])
}

// maxIdempotencyRecord bounds what one record holds (a write's outcome
// of 100 records is tens of kilobytes).
const maxIdempotencyRecord = tokens.MaxCacheValue

func checkIdempotency(r *tokens.IdempotencyRecord) error {
	switch {
	case r.Scope == "" || r.Key == "" || r.ClaimID == "":
		return fmt.Errorf("store: an idempotency record needs a scope, a key and a claim id")
	case len(r.Key) > tokens.MaxIdempotencyKey:
		return fmt.Errorf("store: an idempotency key is at most %d bytes", tokens.MaxIdempotencyKey)
	case len(r.Scope) > 512:
		return fmt.Errorf("store: an idempotency scope is at most 512 bytes")
	}
	return nil
}

func encodeIdempotency(r *tokens.IdempotencyRecord) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	if len(b) > maxIdempotencyRecord {
		return nil, fmt.Errorf("store: an idempotency record is %d bytes, over %d", len(b), maxIdempotencyRecord)
	}
	return b, nil
}

// getIdempotency reads the record under k, nil when there is none.
func getIdempotency(tx Tx, k string) (*tokens.IdempotencyRecord, error) {
	v, err := tx.Get(IdempotencyKeys, k)
	if err != nil || v == nil {
		return nil, err
	}
	var r tokens.IdempotencyRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode idempotency record: %w", err)
	}
	return &r, nil
}

// ClaimIdempotencyKey stores the claim r unless a record of its scope and
// key is live at r.CreatedAt (ErrConflict, with a copy of that record);
// an expired one is replaced.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, r *tokens.IdempotencyRecord) (*tokens.IdempotencyRecord, error) {
	if err := checkIdempotency(r); err != nil {
		return nil, err
	}
	v, err := encodeIdempotency(r)
	if err != nil {
		return nil, err
	}
	k := idempotencyKey(r.Scope, r.Key)
	var held *tokens.IdempotencyRecord
	err = s.update(ctx, func(tx Tx) error {
		held = nil
		old, err := getIdempotency(tx, k)
		if err != nil {
			return err
		}
		if old != nil && old.ExpiresAt.After(r.CreatedAt) {
			held = old
			return fmt.Errorf("idempotency key %q: %w", r.Key, tokens.ErrConflict)
		}
		return tx.Put(IdempotencyKeys, k, v)
	})
	if err != nil {
		return held, err
	}
	return nil, nil
}

// FinishIdempotencyKey replaces the claim r.ClaimID made with r.
func (s *Store) FinishIdempotencyKey(ctx context.Context, r *tokens.IdempotencyRecord) error {
	if err := checkIdempotency(r); err != nil {
		return err
	}
	v, err := encodeIdempotency(r)
	if err != nil {
		return err
	}
	k := idempotencyKey(r.Scope, r.Key)
	return s.update(ctx, func(tx Tx) error {
		old, err := getIdempotency(tx, k)
		switch {
		case err != nil:
			return err
		case old == nil:
			return record.NotFound("idempotency key", r.Key)
		case old.ClaimID != r.ClaimID:
			return fmt.Errorf("idempotency key %q is held by another claim: %w", r.Key, tokens.ErrConflict)
		}
		return tx.Put(IdempotencyKeys, k, v)
	})
}

// ReleaseIdempotencyKey deletes the unfinished claim claimID made, and
// nothing else.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, scope, key, claimID string) error {
	k := idempotencyKey(scope, key)
	return s.update(ctx, func(tx Tx) error {
		old, err := getIdempotency(tx, k)
		if err != nil || old == nil || old.ClaimID != claimID || old.Done {
			return err
		}
		return tx.Delete(IdempotencyKeys, k)
	})
}

// idempotencySweepBatch is how many records one transaction of
// DeleteExpiredIdempotencyKeys reads.
const idempotencySweepBatch = 256

// DeleteExpiredIdempotencyKeys deletes the records expired at now, a
// batch a transaction. A record is read again (checked) before it is
// deleted, so a claim that replaced an expired record meanwhile stays.
func (s *Store) DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time) (int, error) {
	total, after := 0, ""
	for {
		n, last, more := 0, "", false
		err := s.update(ctx, func(tx Tx) error {
			n, last = 0, ""
			var expired []string
			r := Range{Limit: idempotencySweepBatch, Unchecked: true}
			if after != "" {
				r.Start = after + "\x00"
			}
			var err error
			more, err = tx.Scan(IdempotencyKeys, r, func(k string, v []byte) error {
				last = k
				var rec struct {
					ExpiresAt time.Time `json:"expires_at"`
				}
				if json.Unmarshal(v, &rec) == nil && !rec.ExpiresAt.After(now) {
					expired = append(expired, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range expired {
				old, err := getIdempotency(tx, k)
				if err != nil {
					return err
				}
				if old != nil && !old.ExpiresAt.After(now) {
					if err := tx.Delete(IdempotencyKeys, k); err != nil {
						return err
					}
					n++
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if !more || last == "" {
			return total, nil
		}
		after = last
	}
}
