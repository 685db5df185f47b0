package config

import (
	"strings"
	"testing"
	"time"
)

func TestStorageRetention(t *testing.T) {
	cfg, err := Load(write(t, validYAML), nil)
	if err != nil || cfg.Storage.Retention != 0 {
		t.Fatalf("default storage.retention = %v, %v; want 0 (keep)", cfg.Storage.Retention.D(), err)
	}
	cfg, err = Load(write(t, validYAML+"storage:\n  retention: 720h\n"), []string{})
	if err != nil || cfg.Storage.Retention.D() != 720*time.Hour {
		t.Errorf("storage.retention: 720h = %v, %v", cfg.Storage.Retention.D(), err)
	}
	cfg, err = Load(write(t, validYAML), []string{"VOXGATE_STORAGE_RETENTION=48h"})
	if err != nil || cfg.Storage.Retention.D() != 48*time.Hour {
		t.Errorf("VOXGATE_STORAGE_RETENTION=48h = %v, %v", cfg.Storage.Retention.D(), err)
	}
	if _, err := Load(write(t, validYAML+"storage:\n  retention: -1h\n"), nil); err == nil || !strings.Contains(err.Error(), "storage.retention") {
		t.Errorf("negative retention: %v", err)
	}
}
