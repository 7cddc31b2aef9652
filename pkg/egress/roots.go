package egress

import (
	"crypto/x509"
	"fmt"
	"os"
)

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
