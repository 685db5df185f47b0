//go:build benchpprof

package main

// TEMPORARY (bench work, issue 7): pprof on 127.0.0.1:16060 when built with -tags benchpprof.

import (
	"net/http"
	_ "net/http/pprof"
)

func init() {
	go func() { _ = http.ListenAndServe("127.0.0.1:16060", nil) }()
}
