// Package configs holds Voxgate's default configuration and the example
// applications the gateway can serve itself.
package configs

import "embed"

// Demo is the demo IVR: TwiML documents served under /demo/ by the gateway.
//
//go:embed demo/*.xml
var Demo embed.FS
