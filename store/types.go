package store

import "errors"

// Errors of the bbolt store itself; the errors every Store shares
// (tokens.ErrNotFound, tokens.ErrConflict) are the tokens package's.
var (
	// ErrWrongKey means the secret key cannot open the secrets in this database.
	ErrWrongKey = errors.New("secret key does not match the one this database was created with")
	// ErrNoKey means no key was given and none is stored, but the
	// directory holds a database that was sealed with one: a new key could
	// never open it, so none is generated.
	ErrNoKey = errors.New("the database was sealed with a secret key that is neither given nor stored beside it")
	// ErrLocked means another process holds the database file open.
	ErrLocked = errors.New("database is locked by another process")
)
