package webrtc

import (
	"fmt"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	pion "github.com/pion/webrtc/v4"
)

// Payload types the leg offers when it negotiates; in an answer the
// browser's numbers win. PCMU is static payload type 0.
const (
	pcmuPayloadType  = 0
	eventPayloadType = 101
)

// mimeTypeTelephoneEvent is the RFC 4733 event payload's MIME type.
const mimeTypeTelephoneEvent = "audio/telephone-event"

// newAPI returns a pion API that speaks PCMU (and telephone-event) only,
// gathers host candidates (loopback included, no mDNS, no STUN) and sends
// RTCP sender reports. It sends no receiver reports: pion's receiver-report
// interceptor allocates for every packet received, and nothing in a
// PCMU-only call needs them.
func newAPI(cfg Config) (*pion.API, error) {
	media := &pion.MediaEngine{}
	codecs := []pion.RTPCodecParameters{
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000}, PayloadType: pcmuPayloadType},
		{RTPCodecCapability: pion.RTPCodecCapability{MimeType: mimeTypeTelephoneEvent, ClockRate: 8000, SDPFmtpLine: "0-16"}, PayloadType: eventPayloadType},
	}
	for _, c := range codecs {
		if err := media.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("webrtc: register codec %s: %w", c.MimeType, err)
		}
	}

	var settings pion.SettingEngine
	settings.SetIncludeLoopbackCandidate(true)
	settings.SetNetworkTypes([]pion.NetworkType{pion.NetworkTypeUDP4, pion.NetworkTypeUDP6})
	settings.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if cfg.PortMin != 0 || cfg.PortMax != 0 {
		if err := settings.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, fmt.Errorf("webrtc: udp port range %d-%d: %w", cfg.PortMin, cfg.PortMax, err)
		}
	}
	if cfg.PublicIP.IsValid() {
		rule := pion.ICEAddressRewriteRule{
			External:        []string{cfg.PublicIP.Unmap().String()},
			AsCandidateType: pion.ICECandidateTypeHost,
			Mode:            pion.ICEAddressRewriteAppend,
		}
		if err := settings.SetICEAddressRewriteRules(rule); err != nil {
			return nil, fmt.Errorf("webrtc: public ip %s: %w", cfg.PublicIP, err)
		}
	}

	senderReports, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, fmt.Errorf("webrtc: rtcp sender reports: %w", err)
	}
	registry := &interceptor.Registry{}
	registry.Add(senderReports)
	return pion.NewAPI(pion.WithMediaEngine(media), pion.WithSettingEngine(settings), pion.WithInterceptorRegistry(registry)), nil
}
