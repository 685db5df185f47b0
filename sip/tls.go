package sip

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// serverTLSConfig loads the certificate "tls:" listeners present
// (Config.TLSCert, Config.TLSKey). TLS 1.2 at least.
func (s *Server) serverTLSConfig() (*tls.Config, error) {
	if s.cfg.TLSCert == "" || s.cfg.TLSKey == "" {
		return nil, fmt.Errorf("sip: a tls: listener needs a certificate and key (sip.tls_cert, sip.tls_key)")
	}
	cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("sip: load TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// clientTLSConfig is the configuration of TLS connections we open (to
// trunks with transport tls, to sips: URIs): the peer's certificate is
// verified against the system's roots plus every trunk's TLSCAFile, and
// must name the host dialled.
func clientTLSConfig(trunks []Trunk) (*tls.Config, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	for _, t := range trunks {
		if t.TLSCAFile == "" {
			continue
		}
		pem, err := os.ReadFile(t.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("sip: trunk %q: tls_ca_file: %w", t.Name, err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sip: trunk %q: tls_ca_file %s holds no PEM certificate", t.Name, t.TLSCAFile)
		}
	}
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, nil
}
