package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxgate/voxgate/sip"
)

var trunkRegisteredDesc = prometheus.NewDesc("voxgate_sip_trunk_registered",
	"1 while the gateway is registered with the trunk (trunks with register: true), else 0.", []string{"trunk"}, nil)

var trunkRegisterFailuresDesc = prometheus.NewDesc("voxgate_sip_trunk_register_failures",
	"Failed registration attempts in a row with the trunk.", []string{"trunk"}, nil)

// trunkRegistrations exports the SIP server's outbound registrations.
type trunkRegistrations struct{ srv *sip.Server }

func (trunkRegistrations) Describe(ch chan<- *prometheus.Desc) {
	ch <- trunkRegisteredDesc
	ch <- trunkRegisterFailuresDesc
}

func (r trunkRegistrations) Collect(ch chan<- prometheus.Metric) {
	for _, st := range r.srv.Registrations() {
		v := 0.0
		if st.Registered {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(trunkRegisteredDesc, prometheus.GaugeValue, v, st.Trunk)
		ch <- prometheus.MustNewConstMetric(trunkRegisterFailuresDesc, prometheus.GaugeValue, float64(st.Failures), st.Trunk)
	}
}
