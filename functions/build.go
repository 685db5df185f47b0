package functions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// runtimes are the Build Runtime values accepted; the functions always run
// on the gateway's Node.js, whatever the project asked for.
var runtimes = []string{"node8", "node10", "node12", "node14", "node16", "node18", "node20", "node22", "node24"}

// ignoredDependencies select Twilio's hosted runtime and are not installed.
var ignoredDependencies = []string{"@twilio/runtime-handler"}

// startBuild records a new Build and builds it in the background:
// snapshot the versions into the build's directory and install its npm
// dependencies. The directory appears whole or not at all.
func (m *Manager) startBuild(svcSID string, fvs, avs []string, deps []Dependency, runtime string) (*Build, error) {
	m.mu.Lock()
	for _, list := range [][]string{fvs, avs} {
		for _, v := range list {
			ver := m.versions[v]
			if ver == nil || ver.ServiceSID != svcSID {
				m.mu.Unlock()
				return nil, fmt.Errorf("version %s not found in this service", v)
			}
		}
	}
	t := now()
	b := &Build{SID: newSID(prefixBuild), ServiceSID: svcSID, Status: buildBuilding, FunctionVersions: fvs, AssetVersions: avs,
		Dependencies: deps, Runtime: runtime, DateCreated: t, DateUpdated: t}
	m.builds[b.SID] = b
	copyB := *b
	m.mu.Unlock()
	m.save(context.Background(), kindBuild, b.SID, svcSID, b)
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		err := m.build(m.ctx, copyB)
		m.mu.Lock()
		if err != nil {
			b.Status, b.Error = buildFailed, err.Error()
		} else {
			b.Status = buildCompleted
		}
		b.DateUpdated = now()
		saved := *b
		m.mu.Unlock()
		if err != nil {
			m.log.Error("functions: build failed", "build_sid", b.SID, "service_sid", svcSID, "code", 20001, "error", err)
		} else {
			m.log.Info("functions: build completed", "build_sid", b.SID, "service_sid", svcSID)
		}
		m.save(context.Background(), kindBuild, saved.SID, svcSID, saved)
	}()
	return &copyB, nil
}

// build writes the build's directory.
func (m *Manager) build(ctx context.Context, b Build) error {
	final := m.buildDir(b.SID)
	tmp := final + ".tmp"
	_ = os.RemoveAll(tmp)
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(tmp)
		}
	}()
	m.mu.RLock()
	var vers []Version
	for _, s := range slices.Concat(b.FunctionVersions, b.AssetVersions) {
		vers = append(vers, *m.versions[s])
	}
	m.mu.RUnlock()
	seen := map[string]bool{}
	for _, v := range vers {
		if seen[v.Path] {
			return fmt.Errorf("two versions share the path %s", v.Path)
		}
		seen[v.Path] = true
		dst := filepath.Join(tmp, builtName(&v))
		if err := copyFile(m.contentPath(v.SID), dst); err != nil {
			return fmt.Errorf("version %s: %w", v.SID, err)
		}
	}
	pkg := map[string]any{"name": strings.ToLower(b.SID), "private": true, "dependencies": map[string]string{}}
	var install []Dependency
	for _, d := range b.Dependencies {
		if !slices.Contains(ignoredDependencies, d.Name) {
			install = append(install, d)
			pkg["dependencies"].(map[string]string)[d.Name] = cmpStr(d.Version, "*")
		}
	}
	pj, _ := json.MarshalIndent(pkg, "", "  ")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), pj, 0o644); err != nil {
		return err
	}
	if len(install) > 0 {
		mods, err := m.installDependencies(ctx, install)
		if err != nil {
			return err
		}
		if err := os.Symlink(mods, filepath.Join(tmp, "node_modules")); err != nil {
			return err
		}
	}
	_ = os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	ok = true
	return nil
}

func cmpStr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// installDependencies installs deps once per distinct list (a cache keyed
// by its hash) and returns the node_modules directory.
func (m *Manager) installDependencies(ctx context.Context, deps []Dependency) (string, error) {
	slices.SortFunc(deps, func(a, b Dependency) int { return strings.Compare(a.Name, b.Name) })
	key, _ := json.Marshal(deps)
	sum := sha256.Sum256(key)
	dir := filepath.Join(m.opts.Dir, "deps", hex.EncodeToString(sum[:8]))
	mods := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return mods, nil
	}
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	pj := map[string]any{"name": "deps", "private": true, "dependencies": map[string]string{}}
	for _, d := range deps {
		pj["dependencies"].(map[string]string)[d.Name] = cmpStr(d.Version, "*")
	}
	b, _ := json.Marshal(pj)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), b, 0o644); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, m.opts.BuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, m.opts.NPM, "install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("npm install: %w: %s", err, strings.TrimSpace(lastLines(string(out), 5)))
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return mods, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// parseDependencies reads a Build's Dependencies parameter: a JSON array
// of {name, version}, possibly wrapped in an extra pair of quotes (as
// Twilio's serverless toolkit sends it).
func parseDependencies(s string) ([]Dependency, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if strings.HasPrefix(s, `"`) {
		var inner string
		if err := json.Unmarshal([]byte(s), &inner); err != nil {
			return nil, fmt.Errorf("Dependencies: %w", err)
		}
		s = inner
	}
	var deps []Dependency
	if err := json.Unmarshal([]byte(s), &deps); err != nil {
		return nil, fmt.Errorf("Dependencies: want a JSON array of {name, version}: %w", err)
	}
	for _, d := range deps {
		if d.Name == "" {
			return nil, errors.New("Dependencies: a dependency has no name")
		}
		if strings.HasPrefix(d.Version, "file:") || strings.HasPrefix(d.Version, "link:") {
			return nil, fmt.Errorf("Dependencies: %s: local dependencies (%s) cannot be installed", d.Name, d.Version)
		}
	}
	return deps, nil
}
