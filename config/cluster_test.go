package config

import (
	"os"
	"strings"
	"testing"
)

func TestStorageDriverAndClusterNode(t *testing.T) {
	cfg, err := Load(write(t, validYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if cfg.Storage.Driver != "" || cfg.Storage.URL != "" || cfg.Cluster.NodeID != host {
		t.Errorf("defaults: driver %q url %q node %q; want sqlite (empty), no url, node %q",
			cfg.Storage.Driver, cfg.Storage.URL, cfg.Cluster.NodeID, host)
	}
	const pg = "postgres://voxgate:s3cret@127.0.0.1:5432/voxgate?sslmode=disable"
	cfg, err = Load(write(t, validYAML+"storage:\n  driver: postgres\n  url: "+pg+"\ncluster:\n  node_id: gw-a\n"), nil)
	if err != nil || cfg.Storage.Driver != "postgres" || cfg.Storage.URL != pg || cfg.Cluster.NodeID != "gw-a" {
		t.Errorf("postgres config = %+v %+v, %v", cfg.Storage, cfg.Cluster, err)
	}
	cfg, err = Load(write(t, validYAML), []string{"VOXGATE_STORAGE_DRIVER=postgres", "VOXGATE_STORAGE_URL=" + pg, "VOXGATE_CLUSTER_NODE_ID=gw-b"})
	if err != nil || cfg.Storage.URL != pg || cfg.Cluster.NodeID != "gw-b" {
		t.Errorf("from the environment = %+v %+v, %v", cfg.Storage, cfg.Cluster, err)
	}
	for _, tc := range []struct{ yaml, key string }{
		{"storage:\n  driver: mysql\n", "storage.driver"},
		{"storage:\n  driver: postgres\n", "storage.url"},
		{"storage:\n  driver: postgres\n  url: mysql://u:s3cret@h/db\n", "storage.url"},
		{"storage:\n  url: " + pg + "\n", "storage.url"},
		{"cluster:\n  drain_timeout: -1s\n", "cluster.drain_timeout"},
		{"cluster:\n  heartbeat: 10ms\n", "cluster.heartbeat"},
		{"cluster:\n  heartbeat: 5s\n  dead_after: 8s\n", "cluster.dead_after"},
	} {
		_, err := Load(write(t, validYAML+tc.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: err = %v, want one naming %s", tc.yaml, err, tc.key)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error repeats the password: %v", tc.yaml, err)
		}
	}
}

func TestClusterLivenessDefaults(t *testing.T) {
	cfg, err := Load(write(t, validYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cluster.Heartbeat.D().String() != "2s" || cfg.Cluster.DeadAfter.D().String() != "10s" {
		t.Errorf("heartbeat %v, dead_after %v; want 2s and 10s", cfg.Cluster.Heartbeat.D(), cfg.Cluster.DeadAfter.D())
	}
	cfg, err = Load(write(t, validYAML), []string{"VOXGATE_CLUSTER_HEARTBEAT=500ms", "VOXGATE_CLUSTER_DEAD_AFTER=3s"})
	if err != nil || cfg.Cluster.Heartbeat.D().String() != "500ms" || cfg.Cluster.DeadAfter.D().String() != "3s" {
		t.Errorf("from the environment: %+v, %v", cfg.Cluster, err)
	}
}

func TestClusterNamedQueues(t *testing.T) {
	for yaml, want := range map[string]bool{"": true, "cluster:\n  named_queues: cluster\n": true, "cluster:\n  named_queues: node\n": false} {
		cfg, err := Load(write(t, validYAML+yaml), nil)
		if err != nil || cfg.Cluster.NamedQueuesInCluster() != want {
			t.Errorf("%q: in cluster %v, %v; want %v", yaml, cfg.Cluster.NamedQueuesInCluster(), err, want)
		}
	}
	if _, err := Load(write(t, validYAML+"cluster:\n  named_queues: everywhere\n"), nil); err == nil || !strings.Contains(err.Error(), "cluster.named_queues") {
		t.Errorf("an unknown value: %v", err)
	}
}
