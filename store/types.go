package store

import "errors"

// Errors of the bbolt store itself; the errors every Store shares
// (tokens.ErrNotFound, tokens.ErrConflict) are the tokens package's.
var (
	// ErrWrongKey means the secret key cannot open the secrets in this database.
	ErrWrongKey = errors.New("secret key does not match the one this database was created with")
	// ErrLocked means another process holds the database file open.
	ErrLocked = errors.New("database is locked by another process")
)
