package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "voxgate ") {
		t.Errorf("version: exit %d, %q %q", code, out.String(), errOut.String())
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unknown command") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestTwiMLValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.xml")
	bad := filepath.Join(dir, "bad.xml")
	os.WriteFile(good, []byte("<Response>\n  <Say>Hi</Say>\n</Response>\n"), 0o644)
	os.WriteFile(bad, []byte("<Response>\n  <Gather>\n    <Dial>+15550001111</Dial>\n  </Gather>\n  <Pause length=\"x\"/>\n</Response>\n"), 0o644)

	var out, errOut bytes.Buffer
	if code := run([]string{"twiml", "validate", good}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "good.xml: ok") {
		t.Errorf("good file: exit %d, %q", code, out.String())
	}
	out.Reset()
	code := run([]string{"twiml", "validate", bad}, &out, &errOut)
	if code != 1 {
		t.Errorf("bad file: exit %d, want 1", code)
	}
	for _, want := range []string{"bad.xml:3: error 13320", "bad.xml:5: warning 13910"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := run([]string{"twiml", "validate", filepath.Join(dir, "missing.xml")}, &out, &errOut); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
}

func TestDemoDocumentsAreValid(t *testing.T) {
	files, _ := filepath.Glob("../../configs/demo/*.xml")
	if len(files) < 5 {
		t.Fatalf("demo documents: %v", files)
	}
	var out, errOut bytes.Buffer
	if code := run(append([]string{"twiml", "validate"}, files...), &out, &errOut); code != 0 || strings.Contains(out.String(), "warning") {
		t.Errorf("demo app has problems:\n%s%s", out.String(), errOut.String())
	}
}
