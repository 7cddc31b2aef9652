package egress

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// CAEnv is the variable of the proxy's environment that may carry extra
// roots the gateway trusts for its upstreams, besides --ca-file: PEM text,
// base64-encoded so that it is one line (an environment value with a line
// break cannot be passed in a printed docker command). The environment
// reaches a proxy on the host and in a container alike, where a file would
// need a mount.
const CAEnv = "SANDBOX_UPSTREAM_CA"

// EncodeCAEnv is CAEnv's value for PEM text.
func EncodeCAEnv(pemText []byte) string { return base64.StdEncoding.EncodeToString(pemText) }

// AppendCAEnv adds the certificates of a CAEnv value to pool.
func AppendCAEnv(pool *x509.CertPool, value string) error {
	data, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return fmt.Errorf("not base64: %w", err)
	}
	if err := CheckPEMCerts(data); err != nil {
		return err
	}
	pool.AppendCertsFromPEM(data)
	return nil
}

// CheckPEMCerts checks that pem holds at least one certificate and nothing
// but certificates.
func CheckPEMCerts(data []byte) error {
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if len(strings.TrimSpace(string(rest))) > 0 {
				return errors.New("text outside PEM blocks")
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("a %s block where certificates are expected", b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("certificate %d: %w", n+1, err)
		}
		n++
	}
	if n == 0 {
		return errors.New("no PEM certificates found")
	}
	return nil
}

// LoadRootCAs returns the system's trusted roots (which honour SSL_CERT_FILE
// and SSL_CERT_DIR) plus the PEM certificates in caFile, if given.
func LoadRootCAs(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s: no PEM certificates found", caFile)
	}
	return pool, nil
}
