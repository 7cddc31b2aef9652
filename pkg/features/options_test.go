package features

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestSetParsesEveryOption(t *testing.T) {
	var l Layer
	for _, kv := range [][2]string{
		{KeyType, "gvisor"}, {KeyBundle, "small"}, {KeyImage, "agents:1"}, {KeyNetwork, "private"},
		{KeyAllow, "api.example.com"}, {KeyAllow, "*.example.org"}, {KeyMemory, "1g"}, {KeyCPUs, "1.5"},
		{KeyPids, "64"}, {KeyTimeout, "10m"}, {KeyUser, "1000:1000"}, {KeyRelax, "no-init"},
	} {
		assert.NilError(t, Set(&l, kv[0], kv[1]), kv[0])
	}
	assert.Check(t, is.Equal(l.Type, "gvisor"))
	assert.Check(t, is.Equal(l.Bundle, "small"))
	s := l.Settings
	assert.Check(t, is.Equal(*s.Image, "agents:1"))
	assert.Check(t, is.DeepEqual(s.Allow, []string{"api.example.com", "*.example.org"}))
	assert.Check(t, is.Equal(*s.Memory, int64(1<<30)))
	assert.Check(t, is.Equal(*s.CPUs, int64(15e8)))
	assert.Check(t, is.Equal(*s.Pids, int64(64)))
	assert.Check(t, is.Equal(*s.Timeout, 10*time.Minute))
	assert.Check(t, is.Equal(*s.User, "1000:1000"))
	assert.Check(t, *s.Relax.NoInit)
	assert.NilError(t, s.Validate())
}

func TestSetRefusesBadValuesSayingWhatIsAllowed(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{KeyType, "fastest", "valid: gvisor, standard"},
		{KeyBundle, "huge", "huge"},
		{KeyNetwork, "", "empty value: want private or public"},
		{KeyType, "", "empty value: want one of"},
		{KeyAllow, "example.com:99999", `invalid allow "example.com:99999": invalid port`},
		{KeyAllow, "https://x", "invalid allow"},
		{KeyMemory, "lots", "want a size"},
		{KeyCPUs, "two", "want a number"},
		{KeyPids, "many", "want a whole number"},
		{KeyPids, "0", "at least 1"},
		{KeyTimeout, "-1m", "must be positive"},
		{KeyUser, "root", "invalid user"},
		{KeyRelax, "everything", "unknown hardening default"},
	} {
		var l Layer
		err := Set(&l, tc.key, tc.value)
		assert.Check(t, is.ErrorContains(err, tc.want), "%s=%q", tc.key, tc.value)
	}
	assert.Check(t, is.ErrorContains(Set(&Layer{}, "colour", "red"), `unknown setting "colour"`))
}

func TestEveryOptionSaysWhatItAllows(t *testing.T) {
	for _, o := range Options() {
		assert.Check(t, o.Allowed != "", o.Key)
		_, ok := LookupOption(o.Key)
		assert.Check(t, ok, o.Key)
	}
}
