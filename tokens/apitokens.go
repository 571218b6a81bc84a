package tokens

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Names of the API tokens Bootstrap manages.
const (
	// BootstrapTokenName names the API token registered from
	// BIGIN_MCP_ADMIN_TOKEN. When the variable changes, the token of the old
	// value (the one with this name) is deleted, so a rotated value stops
	// working.
	BootstrapTokenName = "bootstrap"
	// FirstStartTokenName names the API token generated on first start.
	FirstStartTokenName = "first-start"
)

// BIGIN_MCP_ADMIN_TOKEN guards the whole admin API, every tenant's
// accounts and URLs, so it must look random: at least
// MinBootstrapTokenChars characters besides an APITokenPrefix (32 hex
// characters carry 128 bits, a generated token's 43 base64url ones 256),
// made of at least minBootstrapTokenDistinct different characters, which
// refuses a placeholder like "aaaa…" or "abcabc…" while a random value of
// 32 characters, even of digits only, has fewer about once in 10^7 draws.
const (
	// MinBootstrapTokenChars is the fewest characters the bootstrap token
	// holds besides its optional APITokenPrefix.
	MinBootstrapTokenChars    = 32
	minBootstrapTokenDistinct = 6
)

// CreateAPIToken stores a new API token and returns it with its value,
// which is shown only this once.
func (s *Service) CreateAPIToken(ctx context.Context, in APITokenInput) (*APIToken, string, error) {
	name, err := checkName(in.Name, "name")
	if err != nil {
		return nil, "", err
	}
	accounts, scopes, err := s.normalizeLimits(ctx, in)
	if err != nil {
		return nil, "", err
	}
	tok := NewAPIToken()
	t, err := s.createAPIToken(ctx, &APIToken{Name: name, AccountIDs: accounts, Scopes: scopes}, tok)
	if err != nil {
		return nil, "", err
	}
	return t, tok, nil
}

// createAPIToken stores t (name and limits set) under a new ID with the
// hash of tok.
func (s *Service) createAPIToken(ctx context.Context, t *APIToken, tok string) (*APIToken, error) {
	t.ID, t.TokenHash, t.CreatedAt = newID(), HashToken(tok), s.now().UTC()
	if err := s.db.CreateAPIToken(ctx, t); err != nil {
		return nil, fmt.Errorf("store API token: %w", err)
	}
	s.audit(ctx, "api_token.create", "", "", "api_token:"+t.ID)
	return t, nil
}

// DeleteAPIToken deletes an API token; it stops working at once. Deleting
// the last one is a conflict.
func (s *Service) DeleteAPIToken(ctx context.Context, id string) error {
	err := s.db.DeleteAPIToken(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return notFoundf("no API token with this id")
	case errors.Is(err, ErrConflict):
		return &Error{Code: CodeConflict, Message: "this is the last API token; create another before deleting it", Err: err}
	case err != nil:
		return fmt.Errorf("delete API token: %w", err)
	}
	s.audit(ctx, "api_token.delete", "", "", "api_token:"+id)
	return nil
}

// Bootstrap makes sure an API token exists: when envToken is set it is
// registered (idempotently, named "bootstrap", replacing the token of a
// previous value); otherwise, when no API token exists, one is generated
// and returned so the caller can print it once. It returns "" when nothing
// new needs printing.
func (s *Service) Bootstrap(ctx context.Context, envToken string) (string, error) {
	if envToken != "" {
		return "", s.bootstrapEnv(ctx, envToken)
	}
	n, err := s.db.CountAPITokens(ctx)
	if err != nil {
		return "", fmt.Errorf("count API tokens: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	tok := NewAPIToken()
	if _, err := s.createAPIToken(ctx, &APIToken{Name: FirstStartTokenName}, tok); err != nil {
		return "", err
	}
	s.logger.InfoContext(ctx, "generated the first API token")
	return tok, nil
}

// CheckBootstrapToken reports whether tok can be the bootstrap API token
// (BIGIN_MCP_ADMIN_TOKEN), so a server can refuse a weak one before it
// creates anything. The error does not repeat the token.
func CheckBootstrapToken(tok string) error {
	random := strings.TrimPrefix(tok, APITokenPrefix)
	if n := utf8.RuneCountInString(random); n < MinBootstrapTokenChars {
		return fmt.Errorf("must hold at least %d random characters besides the %s prefix, and this one has %d; "+
			"generate one with: openssl rand -hex 32", MinBootstrapTokenChars, APITokenPrefix, n)
	}
	distinct := map[rune]bool{}
	for _, r := range random {
		distinct[r] = true
	}
	if len(distinct) < minBootstrapTokenDistinct {
		return fmt.Errorf("repeats %d different characters, too few for a random token; generate one with: openssl rand -hex 32", len(distinct))
	}
	return nil
}

func (s *Service) bootstrapEnv(ctx context.Context, envToken string) error {
	if err := CheckBootstrapToken(envToken); err != nil {
		return err
	}
	h := HashToken(envToken)
	cur, err := s.db.APITokenByHash(ctx, h)
	switch {
	case err == nil:
		_ = cur // already registered
		return nil
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("look up API token: %w", err)
	}
	t, err := s.createAPIToken(ctx, &APIToken{Name: BootstrapTokenName}, envToken)
	if err != nil {
		return err
	}
	// Retire the tokens of earlier values of the variable.
	after := ""
	for {
		list, more, err := s.db.APITokens(ctx, after, 100)
		if err != nil {
			return fmt.Errorf("list API tokens: %w", err)
		}
		for _, old := range list {
			after = old.ID
			if old.Name == BootstrapTokenName && old.ID != t.ID {
				if err := s.db.DeleteAPIToken(ctx, old.ID); err != nil {
					return fmt.Errorf("retire the previous bootstrap token: %w", err)
				}
				s.audit(ctx, "api_token.delete", "", "", "api_token:"+old.ID+" (replaced by BIGIN_MCP_ADMIN_TOKEN)")
			}
		}
		if !more || len(list) == 0 {
			break
		}
	}
	s.logger.InfoContext(ctx, "registered BIGIN_MCP_ADMIN_TOKEN", "api_token_id", t.ID)
	return nil
}
