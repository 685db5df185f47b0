package functions

import _ "embed"

// runnerJS is the Node.js program every worker runs (runtime/runner.js).
//
//go:embed runtime/runner.js
var runnerJS []byte
