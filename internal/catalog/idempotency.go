package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// How long the store keeps a write's outcome under its idempotency key,
// and how long a claim (the first call, still running) holds the key: a
// little longer than a call can take, so that a claim left by a process
// that died mid-call lapses and a retry may write.
const (
	idempotencyTTL   = 24 * time.Hour
	idempotencyClaim = 2 * time.Minute
)

// idempotent is what the arguments of a write that takes an
// idempotency_key embed.
type idempotent struct {
	IdempotencyKey string `json:"idempotency_key" audit:"flag"`
}

func (i *idempotent) key() string { return i.IdempotencyKey }

// idempotencyKey returns the call's idempotency_key, "" without one.
func idempotencyKey(args any) string {
	if k, ok := args.(interface{ key() string }); ok {
		return k.key()
	}
	return ""
}

// idempotencyScope is whose keys a caller uses: its MCP URL's, or on the
// REST face its API token's on this account.
func idempotencyScope(account string, who Caller) string {
	if who.ServerID != "" {
		return "mcp:" + who.ServerID
	}
	return "rest:" + who.Who.APITokenID() + ":" + account
}

// fingerprint is the SHA-256 of the tool and the call's arguments other
// than the key, with the arguments' keys in a fixed order and their
// values as sent, so that a retry of the same call matches however its
// client ordered or spaced the JSON.
func fingerprint(tool string, raw []byte) string {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&m) // the arguments passed the schema: an object
	delete(m, "idempotency_key")
	canon, _ := json.Marshal(m) // map keys are sorted
	h := sha256.New()
	h.Write([]byte(tool))
	h.Write([]byte{0})
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil))
}

// claim takes the idempotency key for this call, or finds it taken: by
// the same call done before (replay is its outcome), by the same call
// still running, or by another call (a Failure either way).
func (x *Executor) claim(ctx context.Context, e *Entry, account *tokens.AccountInfo, raw []byte, key string, who Caller) (
	claim *tokens.IdempotencyRecord, replay *Result, f *Failure) {
	now := x.now().UTC()
	r := &tokens.IdempotencyRecord{
		Scope: idempotencyScope(account.ID, who), Key: key, ClaimID: uuid.NewString(),
		Tool: e.Name, Fingerprint: fingerprint(e.Name, raw), CreatedAt: now, ExpiresAt: now.Add(idempotencyClaim),
	}
	held, err := x.idem.ClaimIdempotencyKey(ctx, r)
	switch {
	case err == nil:
		return r, nil, nil
	case !errors.Is(err, tokens.ErrConflict):
		x.logger.Error("claim idempotency key", "tool", e.Name, "err", err)
		return nil, nil, keyFailure(tokens.CodeUnavailable, "The server could not check the idempotency_key, so it did not write anything.",
			"Call again in a moment with the same idempotency_key.")
	case held.Tool != e.Name || held.Fingerprint != r.Fingerprint:
		return nil, nil, keyFailure(tokens.CodeIdempotencyKeyReused,
			"This idempotency_key was used in the last 24 hours for a call with other arguments (or another tool); nothing was written.",
			"Use a new idempotency_key for each distinct write, and the same one only to retry the very same call.")
	case !held.Done:
		return nil, nil, keyFailure(tokens.CodeConflict, "A call with this idempotency_key and these arguments is still running; nothing more was written.",
			"Wait a few seconds and call again with the same idempotency_key to get its outcome.")
	}
	if !held.Failed {
		return nil, &Result{Body: held.Result}, nil
	}
	var body struct {
		Error  *ToolError      `json:"error"`
		Result json.RawMessage `json:"result"`
	}
	if json.Unmarshal(held.Result, &body) != nil || body.Error == nil {
		return nil, nil, keyFailure(tokens.CodeInternal, "The outcome kept under this idempotency_key could not be read.", "Check the records before writing them again.")
	}
	return nil, &Result{Failure: &Failure{Error: body.Error, Text: held.Text, Result: body.Result}}, nil
}

func keyFailure(code, msg, hint string) *Failure {
	te := &ToolError{Status: httpx.StatusOf(code), Code: code, Message: msg}
	return &Failure{Error: te, Text: msg + " " + hint}
}

// keep stores the outcome of the call that holds claim. A failure to
// store it is logged: the write happened, and only a retry would repeat
// it.
func (x *Executor) keep(ctx context.Context, claim *tokens.IdempotencyRecord, res Result) {
	done := *claim
	done.Done = true
	done.ExpiresAt = claim.CreatedAt.Add(idempotencyTTL)
	if f := res.Failure; f != nil {
		done.Failed, done.Result, done.Text = true, f.Body(), f.Text
	} else {
		done.Result = res.Body
	}
	if err := x.idem.FinishIdempotencyKey(context.WithoutCancel(ctx), &done); err != nil {
		x.logger.Error("keep the outcome of an idempotency key", "tool", claim.Tool, "err", err)
	}
}

// release frees a claim whose call ended with nothing to keep (refused,
// or Zoho's answer lost), so that a retry may write.
func (x *Executor) release(ctx context.Context, claim *tokens.IdempotencyRecord) {
	if claim == nil {
		return
	}
	if err := x.idem.ReleaseIdempotencyKey(context.WithoutCancel(ctx), claim.Scope, claim.Key, claim.ClaimID); err != nil {
		x.logger.Error("release an idempotency key", "tool", claim.Tool, "err", err)
	}
}
