package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxgate/voxgate/queue"
)

// queueCollector reports every queue's size, limit and average wait, read
// from the queue manager at scrape time.
type queueCollector struct {
	queues          func() []queue.QueueInfo
	size, max, wait *prometheus.Desc
}

func newQueueCollector(queues func() []queue.QueueInfo) *queueCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, []string{"queue"}, nil)
	}
	return &queueCollector{
		queues: queues,
		size:   desc("queue_size", "Callers waiting in the queue."),
		max:    desc("queue_max_size", "The most callers the queue accepts."),
		wait:   desc("queue_average_wait_seconds", "Average time the callers waiting now have waited."),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.size
	ch <- c.max
	ch <- c.wait
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	for _, q := range c.queues() {
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(q.Size), q.Name)
		ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(q.MaxSize), q.Name)
		ch <- prometheus.MustNewConstMetric(c.wait, prometheus.GaugeValue, q.AverageWait.Seconds(), q.Name)
	}
}
