package egress

import (
	"encoding/hex"
	"testing"

	"gotest.tools/v3/assert"
)

func TestNewSessionToken(t *testing.T) {
	a, err := NewSessionToken()
	assert.NilError(t, err)
	b, err := NewSessionToken()
	assert.NilError(t, err)
	assert.Assert(t, a != b)
	raw, err := hex.DecodeString(a)
	assert.NilError(t, err)
	assert.Equal(t, len(raw), 32)
	assert.NilError(t, ValidateSessionToken(a))
}

func TestTokenMatcher(t *testing.T) {
	m := newTokenMatcher(testToken)
	assert.Assert(t, m.match(testToken))
	for _, c := range []string{"", testToken[:len(testToken)-1], testToken + "x", wrongTok} {
		assert.Assert(t, !m.match(c), c)
	}
}
