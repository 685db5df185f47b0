package functions

import (
	"strings"
	"testing"
)

func TestPathAndVisibility(t *testing.T) {
	for _, c := range []struct {
		rel      string
		function bool
		path     string
		vis      string
	}{
		{"hello.js", true, "/hello", Public},
		{"voice/ivr.protected.js", true, "/voice/ivr", Protected},
		{"lib/util.private.js", true, "/lib/util", Private},
		{"index.html", false, "/index.html", Public},
		{"data.private.json", false, "/data.json", Private},
		{"music/song.protected.mp3", false, "/music/song.mp3", Protected},
		{"my file.js", true, "/my-file", Public},
		{"a.protected.b.js", true, "/a.protected.b", Public},
	} {
		p, v := pathAndVisibility(c.rel, c.function)
		if p != c.path || v != c.vis {
			t.Errorf("%s: %s %s, want %s %s", c.rel, p, v, c.path, c.vis)
		}
	}
	for _, bad := range []string{"nope", "/a#b", "/a?b", "/a:b", "/a b", "/" + strings.Repeat("x", 255), "/a/../b", "/a//b"} {
		if checkPath(bad) == nil {
			t.Errorf("checkPath(%q) accepted it", bad)
		}
	}
	if err := checkPath("/voice/ivr-2.v1"); err != nil {
		t.Errorf("a good path: %v", err)
	}
}

func TestParseDotEnv(t *testing.T) {
	got, err := parseDotEnv(strings.NewReader(`# description: the greeting
GREETING="Hello there"
export NUMBER=+15550001000 # a comment
SINGLE='a # b'
MULTI="line1\nline2"
EMPTY=
ACCOUNT_SID=AC123
AUTH_TOKEN=secret
`), ".env")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"GREETING": "Hello there", "NUMBER": "+15550001000", "SINGLE": "a # b", "MULTI": "line1\nline2"}
	if !equalJSON(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := parseDotEnv(strings.NewReader("NOT A LINE\n"), ".env"); err == nil || !strings.Contains(err.Error(), ".env:1") {
		t.Errorf("bad line: %v", err)
	}
}

func TestParseDependencies(t *testing.T) {
	plain := `[{"name":"moment","version":"2.29.4"},{"name":"@twilio/runtime-handler","version":"2.1.0"}]`
	for _, in := range []string{plain, `"` + strings.ReplaceAll(plain, `"`, `\"`) + `"`} {
		deps, err := parseDependencies(in)
		if err != nil || len(deps) != 2 || deps[0].Name != "moment" || deps[1].Version != "2.1.0" {
			t.Errorf("%s: %v %v", in, deps, err)
		}
	}
	for _, bad := range []string{`{`, `[{"version":"1"}]`, `[{"name":"x","version":"file:../x"}]`} {
		if _, err := parseDependencies(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FuzzProjectPath: any file name gives a path that is either refused by
// checkPath or starts with "/" and has no whitespace, and a visibility.
func FuzzProjectPath(f *testing.F) {
	for _, s := range []string{"hello.js", "a/b.protected.js", "x.private.json", "dir name/f\tile.js", "..", "a\\b.js", ""} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, rel string, function bool) {
		p, v := pathAndVisibility(rel, function)
		if v != Public && v != Protected && v != Private {
			t.Fatalf("visibility %q", v)
		}
		if checkPath(p) == nil && (!strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \t\n#?")) {
			t.Fatalf("accepted path %q", p)
		}
	})
}

// FuzzParseDotEnv: parsing never panics; every variable kept has a key
// without blanks and a non-empty value, and never the credentials.
func FuzzParseDotEnv(f *testing.F) {
	f.Add("A=1\nB=\"two\"\n# c\nexport D='x'\n")
	f.Add("=\n")
	f.Add("K=\"unterminated\n")
	f.Fuzz(func(t *testing.T, in string) {
		vars, err := parseDotEnv(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		for k, v := range vars {
			if k == "" || strings.ContainsAny(k, " \t") || v == "" || k == "ACCOUNT_SID" || k == "AUTH_TOKEN" {
				t.Fatalf("kept %q=%q", k, v)
			}
		}
	})
}

// FuzzParseDependencies: never panics; accepted lists have names and no
// local paths.
func FuzzParseDependencies(f *testing.F) {
	f.Add(`[{"name":"a","version":"1"}]`)
	f.Add(`"[{\"name\":\"a\",\"version\":\"1\"}]"`)
	f.Add(`""`)
	f.Fuzz(func(t *testing.T, in string) {
		deps, err := parseDependencies(in)
		if err != nil {
			return
		}
		for _, d := range deps {
			if d.Name == "" || strings.HasPrefix(d.Version, "file:") {
				t.Fatalf("accepted %+v", d)
			}
		}
	})
}
