// Package testca makes certificate authorities for tests and benchmarks.
// The fake upstreams they start (a model API, a download server, an
// "internet" host) serve certificates such a CA signs, and the CA is trusted
// nowhere but where the test puts it.
package testca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is a certificate authority: its certificate, as parsed and as PEM,
// and its private key.
type CA struct {
	Cert *x509.Certificate
	// PEM is Cert, PEM-encoded: what a client adds to its roots.
	PEM []byte
	key crypto.Signer
}

// New returns a fresh CA named name, valid for a day.
func New(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return selfSign(rand.Reader, name, key, now.Add(-time.Hour), now.Add(24*time.Hour))
}

// Fixed returns the same CA for the same name in every process: its key
// comes from the name and Ed25519 signs deterministically, so images that
// carry it are byte-identical and can share a content-addressed tag.
func Fixed(name string) (*CA, error) {
	seed := sha256.Sum256([]byte(name))
	key := ed25519.NewKeyFromSeed(seed[:])
	return selfSign(nil, name, key,
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
}

func selfSign(random interface{ Read([]byte) (int, error) }, name string, key crypto.Signer, from, to time.Time) (*CA, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(random, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("self-sign CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: key}, nil
}

// Parse reads a CA back from its certificate and PKCS #8 key, both PEM (see
// KeyPEM), as a server container given the CA's files does.
func Parse(certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("CA certificate or key: no PEM block")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("CA key: %T cannot sign", k)
	}
	return &CA{Cert: cert, PEM: pem.EncodeToMemory(cb), key: key}, nil
}

// KeyPEM is the CA's private key as PKCS #8 PEM, for a server container
// that issues its own certificate at start (see Parse).
func (ca *CA) KeyPEM() ([]byte, error) {
	return keyPEM(ca.key)
}

// Issue returns a server certificate for hosts (IP addresses or names),
// valid for a day, and its private key, both PEM.
func (ca *CA) Issue(hosts ...string) (certPEM, keyPEMText []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("issue: no host")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("issue for %v: %w", hosts, err)
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), kp, nil
}

func keyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
