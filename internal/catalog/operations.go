package catalog

// Paging helpers for operations that are not declared tools (Executor.Do):
// they page with the same limit rules and the same signed cursors as the
// list tools.

// PageSize returns the operation's limit argument, or the default page
// size (100) when it is not set.
func (c *Call) PageSize() int { return c.op.size(defaultLimit) }

// Position decodes the operation's next_cursor, which must have been
// issued for the same operation, account and key (the arguments that
// shape the list); 0 when there is none. A cursor issued for anything
// else is refused like a tool's.
func (c *Call) Position(key string) (int, error) { return c.position(&c.op, key) }

// NextCursor returns the signed cursor of position pos for the same
// operation, account and key.
func (c *Call) NextCursor(key string, pos int) string {
	return c.cursors.encode(c.Tool, c.account, key, pos)
}

// MaxPageSize is the largest limit a list accepts.
const MaxPageSize = maxLimit
