package egress

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// sessionTokenBytes is the entropy of a session token: 256 bits.
const sessionTokenBytes = 32

// minTokenLen is the shortest session token the gateway accepts, in
// characters: 128 bits in hex.
const minTokenLen = 32

// NewSessionToken returns a fresh random session token (64 hex digits). The
// sandbox gets it as its API key; it is worth nothing outside the run's
// gateway.
func NewSessionToken() (string, error) {
	b := make([]byte, sessionTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ValidateSessionToken checks that a token is long enough to be unguessable
// and made of characters that survive headers, URLs and env files unchanged
// (letters, digits, '-' and '_': hex and base64url).
func ValidateSessionToken(token string) error {
	if len(token) < minTokenLen {
		return fmt.Errorf("session token is %d characters; want at least %d", len(token), minTokenLen)
	}
	if i := strings.IndexFunc(token, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}); i >= 0 {
		return fmt.Errorf("session token has a character other than letters, digits, '-' and '_' at position %d", i)
	}
	return nil
}

// tokenMatcher compares candidates with the session token in constant time.
// Both sides are hashed first so that not even the length of the token leaks
// through timing.
type tokenMatcher [sha256.Size]byte

func newTokenMatcher(token string) tokenMatcher { return sha256.Sum256([]byte(token)) }

func (m tokenMatcher) match(candidate string) bool {
	h := sha256.Sum256([]byte(candidate))
	return subtle.ConstantTimeCompare(m[:], h[:]) == 1
}
