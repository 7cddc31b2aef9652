package redact

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func TestScrub(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		secrets []string
		want    string
	}{
		{name: "no secrets", text: "token abc", want: "token abc"},
		{name: "empty and blank secrets ignored", text: "a b", secrets: []string{"", "  "}, want: "a b"},
		{name: "every occurrence", text: "k=sk-ant-123 again sk-ant-123.", secrets: []string{"sk-ant-123"}, want: "k=*** again ***."},
		{name: "several secrets", text: "ghp_aaaa and sk-bbbb", secrets: []string{"sk-bbbb", "ghp_aaaa"}, want: "*** and ***"},
		{name: "longest overlapping secret wins", text: "x=abcdef", secrets: []string{"abc", "abcdef"}, want: "x=***"},
		{name: "secret inside a word", text: "prefixSECRETsuffix", secrets: []string{"SECRET"}, want: "prefix***suffix"},
		{name: "padded secret scrubbed trimmed", text: "v=tok-9999", secrets: []string{"tok-9999\n"}, want: "v=***"},
		{
			name: "multi-line secret by line", text: "-----BEGIN KEY-----\nMIIEabc\n-----END KEY-----",
			secrets: []string{"-----BEGIN KEY-----\r\nMIIEabc\r\n-----END KEY-----\r\n"},
			want:    "***\n***\n***",
		},
		{name: "short lines of a multi-line secret kept", text: "ok\nlong-line-1", secrets: []string{"ok\nlong-line-1"}, want: "***"},
		{name: "unicode", text: "mot de passe: pässwörd!", secrets: []string{"pässwörd"}, want: "mot de passe: ***!"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, Scrub(tc.text, tc.secrets...), tc.want)
		})
	}
}

func TestScrubberZeroAndNil(t *testing.T) {
	var nilS *Scrubber
	assert.Equal(t, nilS.Scrub("x"), "x")
	assert.Equal(t, (&Scrubber{}).Scrub("x"), "x")
}

func FuzzScrub(f *testing.F) {
	f.Add("the key is sk-123 ok", "sk-123")
	f.Add("aaaa", "aa")
	f.Add("line1\nline2", "line1\nline2")
	f.Fuzz(func(t *testing.T, text, secret string) {
		got := Scrub(text, secret)
		if strings.TrimSpace(secret) != "" && !strings.Contains(secret, "*") && strings.Contains(got, secret) {
			t.Fatalf("secret %q left in %q", secret, got)
		}
	})
}
