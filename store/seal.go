package store

import "github.com/bigin-mcp/bigin-mcp/store/internal/record"

// KeySize is the length in bytes of the secret key (AES-256).
const KeySize = record.KeySize
