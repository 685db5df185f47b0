package sip

import "github.com/voxgate/voxgate/media"

// codecPrefs is the codec preference of calls from or through the named
// trunk: its own Codecs, else Config.Codecs (nil: the default choice,
// see Offer.Choose).
func (s *Server) codecPrefs(trunk string) []media.Codec {
	if trunk != "" {
		for _, t := range s.cfg.Trunks {
			if t.Name == trunk && len(t.Codecs) > 0 {
				return t.Codecs
			}
		}
	}
	return s.cfg.Codecs
}
