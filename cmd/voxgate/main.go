// Command voxgate is the Voxgate voice gateway: SIP in, TwiML apps, REST API.
//
//	voxgate serve --config configs/voxgate.yaml
//	voxgate twiml validate FILE...
//	voxgate version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  voxgate serve [--config FILE]     run the gateway (default config: configs/voxgate.yaml)
  voxgate twiml validate FILE...    check TwiML documents; errors carry line numbers and Twilio codes
  voxgate flow validate FILE...     check Studio flow JSON; problems name the state and property
  voxgate functions deploy [--config FILE] --service NAME DIR
                                    deploy a Twilio Serverless project through the running gateway
  voxgate flow validate --config F  check the flows F's numbers run, and that each takes calls
  voxgate version                   print the version

Every config key can be overridden by an environment variable, e.g.
sip.public_ip -> VOXGATE_SIP_PUBLIC_IP (see README).
`)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		cfgPath := fs.String("config", "configs/voxgate.yaml", "configuration file")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, *cfgPath, os.Environ(), stdout); err != nil {
			fmt.Fprintln(stderr, "voxgate:", err)
			return 1
		}
		return 0
	case "twiml":
		if len(args) < 3 || args[1] != "validate" {
			fmt.Fprintln(stderr, "usage: voxgate twiml validate FILE...")
			return 2
		}
		return validateTwiML(args[2:], stdout, stderr)
	case "flow":
		if len(args) < 3 || args[1] != "validate" {
			fmt.Fprintln(stderr, "usage: voxgate flow validate FILE... | --config FILE")
			return 2
		}
		if args[2] == "--config" && len(args) == 4 {
			return validateConfigFlows(args[3], stdout, stderr)
		}
		return validateFlows(args[2:], stdout, stderr)
	case "functions":
		return functionsCommand(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "voxgate", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "voxgate: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}
