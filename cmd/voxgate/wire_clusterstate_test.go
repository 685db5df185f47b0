package main

import (
	"testing"

	"github.com/voxgate/voxgate/config"
)

func TestClusterAddresses(t *testing.T) {
	for _, c := range []struct {
		httpListen, internal, publicIP string
		sip                            []string
		wantURL, wantSIP               string
	}{
		{"127.0.0.2:8080", "", "", []string{"udp:127.0.0.2:5060", "tcp:127.0.0.2:5060"}, "http://127.0.0.2:8080", "sip:alice@127.0.0.2:5060"},
		{"0.0.0.0:8080", "", "10.0.0.7", []string{"udp:0.0.0.0:5070"}, "http://10.0.0.7:8080", "sip:alice@10.0.0.7:5070"},
		{":8080", "", "", []string{"tcp:10.0.0.8:5080"}, "http://10.0.0.8:8080", "sip:alice@10.0.0.8:5080;transport=tcp"},
		{"0.0.0.0:8080", "https://gw-a.internal:8443/", "", []string{"udp:10.0.0.9:5060"}, "https://gw-a.internal:8443", "sip:alice@10.0.0.9:5060"},
	} {
		var cfg config.Config
		cfg.HTTP.Listen, cfg.Cluster.InternalURL, cfg.SIP.PublicIP, cfg.SIP.Listen = c.httpListen, c.internal, c.publicIP, c.sip
		u, err := clusterInternalURL(cfg)
		if err != nil || u != c.wantURL {
			t.Errorf("%+v: internal URL %q, %v; want %q", c, u, err, c.wantURL)
		}
		uri, err := clusterSIPURI(cfg)
		if err != nil {
			t.Errorf("%+v: SIP URI: %v", c, err)
			continue
		}
		if got := uri("alice"); got != c.wantSIP {
			t.Errorf("%+v: SIP URI %q, want %q", c, got, c.wantSIP)
		}
	}
	var cfg config.Config
	cfg.HTTP.Listen, cfg.SIP.Listen = "0.0.0.0:8080", []string{"tls:10.0.0.1:5061"}
	if _, err := clusterSIPURI(cfg); err == nil {
		t.Error("a TLS-only gateway got an internal SIP URI")
	}
}
