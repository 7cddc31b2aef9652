package egress

import (
	"testing"
)

// Normalising is idempotent and never panics, whatever a client sends: the
// canonical form of a host must check the same as the host itself.
func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{"api.example.com", "API.Example.COM.", "[::1]", "::ffff:127.0.0.1", "2130706433",
		"0x7f.1", "0177.0.0.01", "1.2.3.999", "a..b", "-x", "x_y", "bücher.de", "0x", "[fe80::1%eth0]", ""} {
		f.Add(s)
	}
	al, err := ParseAllowlist([]string{"api.example.com", "*.example.org", "127.0.0.1"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host string) {
		h, ip, err := normalizeHost(host)
		if err != nil {
			return
		}
		h2, ip2, err := normalizeHost(h)
		if err != nil || h2 != h || ip2 != ip {
			t.Fatalf("normalizeHost(%q) = %q, but normalizeHost(%q) = %q, %v, %v", host, h, h, h2, ip2, err)
		}
		ok1, _ := al.Check(host, 443)
		ok2, _ := al.Check(h, 443)
		if ok1 != ok2 {
			t.Fatalf("Check(%q) = %v but Check(%q) = %v", host, ok1, h, ok2)
		}
	})
}
