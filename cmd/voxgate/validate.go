package main

import (
	"fmt"
	"io"
	"os"

	"github.com/voxgate/voxgate/twiml"
)

// validateTwiML checks each file and prints every problem as
// FILE:LINE: severity CODE: message. It returns 1 if any file has errors.
func validateTwiML(files []string, stdout, stderr io.Writer) int {
	status := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(stderr, "voxgate:", err)
			status = 1
			continue
		}
		problems := twiml.Check(data)
		errs := 0
		for _, p := range problems {
			fmt.Fprintf(stdout, "%s:%d: %s %d: %s\n", f, p.Line, p.Severity, p.Code, p.Message)
			if p.Severity == twiml.SeverityError {
				errs++
			}
		}
		if errs > 0 {
			status = 1
		} else {
			fmt.Fprintf(stdout, "%s: ok\n", f)
		}
	}
	return status
}
