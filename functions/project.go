package functions

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// Project is a Twilio Serverless project on disk, in the layout of
// Twilio's serverless toolkit: functions/ (or src/), assets/ (or static/),
// package.json and .env.
type Project struct {
	Functions    []ProjectFile
	Assets       []ProjectFile
	Dependencies []Dependency
	// Variables come from .env, without ACCOUNT_SID, AUTH_TOKEN and empty
	// values (as the toolkit deploys them).
	Variables map[string]string
}

// ProjectFile is one function or asset with its URL path and visibility.
type ProjectFile struct {
	Path       string // "/voice/ivr"
	Visibility string
	File       string // on disk
}

// ReadProject reads the project in dir.
func ReadProject(dir string) (*Project, error) {
	p := &Project{Variables: map[string]string{}}
	var err error
	if p.Functions, err = readFolder(dir, []string{"functions", "src"}, true); err != nil {
		return nil, err
	}
	if p.Assets, err = readFolder(dir, []string{"assets", "static"}, false); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, f := range p.Functions {
		seen[f.Path] = true
	}
	for _, a := range p.Assets {
		if seen[a.Path] {
			return nil, fmt.Errorf("functions: a function and an asset share the path %s", a.Path)
		}
	}
	if p.Dependencies, err = readDependencies(filepath.Join(dir, "package.json")); err != nil {
		return nil, err
	}
	if p.Variables, err = readDotEnv(filepath.Join(dir, ".env")); err != nil {
		return nil, err
	}
	return p, nil
}

// readFolder lists the first of candidates that exists under dir.
func readFolder(dir string, candidates []string, functions bool) ([]ProjectFile, error) {
	var root string
	for _, c := range candidates {
		if st, err := os.Stat(filepath.Join(dir, c)); err == nil && st.IsDir() {
			root = filepath.Join(dir, c)
			break
		}
	}
	if root == "" {
		return nil, nil
	}
	var out []ProjectFile
	err := filepath.WalkDir(root, func(file string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if name == ".DS_Store" || functions && !strings.HasSuffix(name, ".js") {
			return nil
		}
		rel, _ := filepath.Rel(root, file)
		p, vis := pathAndVisibility(filepath.ToSlash(rel), functions)
		if err := checkPath(p); err != nil {
			return fmt.Errorf("functions: %s: %w", file, err)
		}
		out = append(out, ProjectFile{Path: p, Visibility: vis, File: file})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("functions: reading %s: %w", root, err)
	}
	return out, nil
}

// pathAndVisibility derives a URL path and visibility from a file's path
// relative to its folder, as Twilio's toolkit does: a ".protected" or
// ".private" infix before the extension sets the visibility and is
// removed; functions drop ".js"; whitespace becomes "-".
func pathAndVisibility(rel string, function bool) (string, string) {
	dir, base := "", rel
	if i := strings.LastIndex(rel, "/"); i >= 0 {
		dir, base = rel[:i+1], rel[i+1:]
	}
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	vis := Public
	for _, v := range []string{Protected, Private} {
		if s, ok := strings.CutSuffix(stem, "."+v); ok {
			stem, vis = s, v
			break
		}
	}
	name := stem
	if !function {
		name += ext
	}
	p := "/" + dir + name
	p = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return '-'
		}
		if r == '\\' {
			return '/'
		}
		return r
	}, p)
	return p, vis
}

// checkPath applies Twilio's rules for a function's or asset's path.
func checkPath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return errors.New("the path must start with /")
	case len(p) >= 256:
		return errors.New("the path must be shorter than 256 characters")
	case strings.ContainsAny(p, "#;,?:@+&$()'\" "):
		return fmt.Errorf("the path %q contains a character Twilio does not allow (# ; , ? : @ + & $ ( ) ' \" or a space)", p)
	case strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "//"):
		return fmt.Errorf("the path %q is not clean", p)
	}
	return nil
}

// readDependencies lists package.json's dependencies (not devDependencies).
func readDependencies(file string) ([]Dependency, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("functions: %w", err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return nil, fmt.Errorf("functions: %s: %w", file, err)
	}
	var out []Dependency
	for n, v := range pkg.Dependencies {
		out = append(out, Dependency{Name: n, Version: v})
	}
	slices.SortFunc(out, func(a, b Dependency) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// readDotEnv reads a .env file (none: no variables).
func readDotEnv(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("functions: %w", err)
	}
	defer f.Close()
	return parseDotEnv(f, file)
}

// parseDotEnv parses dotenv syntax (KEY=VALUE lines, # comments, optional
// export and quotes), dropping empty values and the account's
// credentials, as Twilio's toolkit does on deploy.
func parseDotEnv(r io.Reader, name string) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			return nil, fmt.Errorf("functions: %s:%d: want KEY=VALUE", name, n)
		}
		switch {
		case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
			v = strings.ReplaceAll(v[1:len(v)-1], `\n`, "\n")
		case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
			v = v[1 : len(v)-1]
		default:
			if i := strings.Index(v, " #"); i >= 0 {
				v = strings.TrimSpace(v[:i])
			}
		}
		if v == "" || k == "ACCOUNT_SID" || k == "AUTH_TOKEN" {
			continue
		}
		vars[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("functions: %s: %w", name, err)
	}
	return vars, nil
}
