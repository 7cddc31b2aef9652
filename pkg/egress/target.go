package egress

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// maxHostLen is the longest DNS name (RFC 1035), in its textual form.
const maxHostLen = 253

// target is a destination after normalisation: Host is lower case without a
// trailing dot, and an IP literal is in its canonical form without brackets.
type target struct {
	Host string
	Port int
	// IP is set when Host is an IP literal, in whatever form it was written.
	IP bool
}

// addr is the dial address of t.
func (t target) addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// parseHostPort parses "host:port" (port required) as written in a CONNECT
// request or an allowlist entry.
func parseHostPort(s string) (target, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return target{}, fmt.Errorf("want host:port: %w", unwrapAddrError(err))
	}
	return newTarget(h, p)
}

// newTarget normalises host and parses port.
func newTarget(host, port string) (target, error) {
	n, err := parsePort(port)
	if err != nil {
		return target{}, err
	}
	h, ip, err := normalizeHost(host)
	if err != nil {
		return target{}, err
	}
	return target{Host: h, Port: n, IP: ip}, nil
}

func parsePort(s string) (int, error) {
	if s == "" {
		return 0, errors.New("missing port")
	}
	// ParseUint accepts only digits here, so "+443" and "0x1bb" fail.
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return int(n), nil
}

// normalizeHost lower-cases host, drops one trailing dot and validates it as a
// DNS name or an IP literal. IP literals come back in canonical form, so that
// every spelling of an address (bracketed, IPv4-mapped IPv6, or the decimal,
// hex and octal integer forms that resolvers accept) is recognised as an IP
// and compared as one.
func normalizeHost(host string) (h string, ip bool, err error) {
	if host == "" {
		return "", false, errors.New("missing host")
	}
	if len(host) > maxHostLen+1 {
		return "", false, fmt.Errorf("host is longer than %d characters", maxHostLen)
	}
	bracketed := strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]")
	if bracketed {
		host = host[1 : len(host)-1]
	}
	if bracketed || strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		if err != nil || a.Zone() != "" || !a.Is6() {
			return "", false, fmt.Errorf("invalid IPv6 address %q", host)
		}
		return a.Unmap().String(), true, nil
	}
	h = strings.TrimSuffix(strings.ToLower(host), ".")
	if endsInNumber(h) {
		a, ok := parseIPv4(h)
		if !ok {
			return "", false, fmt.Errorf("invalid IPv4 address %q", host)
		}
		return a.String(), true, nil
	}
	if err := validateDNSName(h); err != nil {
		return "", false, fmt.Errorf("invalid host name %q: %w", host, err)
	}
	return h, false, nil
}

// validateDNSName accepts letters, digits, '-' and '_' in labels of 1 to 63
// characters that neither start nor end with '-'. Underscores are allowed
// because container names, which the proxy must reach, may contain them.
// Everything else (spaces, '=', '%', '@', '/', a leading '-' that could pass
// for a flag, non-ASCII) is refused: clients send IDNs as punycode.
func validateDNSName(h string) error {
	if h == "" {
		return errors.New("empty")
	}
	for label := range strings.SplitSeq(h, ".") {
		switch {
		case label == "":
			return errors.New("empty label")
		case len(label) > 63:
			return errors.New("label longer than 63 characters")
		case label[0] == '-' || label[len(label)-1] == '-':
			return errors.New("label starts or ends with '-'")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if c >= 0x80 {
				return errors.New("non-ASCII name; use its punycode (xn--) form")
			}
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("character %q not allowed", c)
			}
		}
	}
	return nil
}

// endsInNumber reports whether the last label of h is numeric, which is the
// WHATWG URL rule for "this host is an IPv4 address": no real top-level
// domain is numeric, and resolvers read such names as addresses.
func endsInNumber(h string) bool {
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(rest, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// parseIPv4 parses the forms inet_aton(3) accepts: one to four parts, each
// decimal, octal (leading 0) or hex (leading 0x), the last part filling the
// remaining bytes, so "127.1", "2130706433" and "0x7f.0.0.1" all mean
// 127.0.0.1.
func parseIPv4(h string) (netip.Addr, bool) {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := parseIPv4Part(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v = v<<8 | n
			continue
		}
		rem := uint(8 * (4 - i))
		if n >= 1<<rem {
			return netip.Addr{}, false
		}
		v = v<<rem | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPv4Part(p string) (uint64, bool) {
	base := 10
	switch {
	case strings.HasPrefix(p, "0x"):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if p == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(p, base, 32)
	return n, err == nil
}

// unwrapAddrError drops net.AddrError's address, which the caller quotes.
func unwrapAddrError(err error) error {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return errors.New(ae.Err)
	}
	return err
}
