package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series, on a registry of its own so
// that several servers (tests) do not collide.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec   // route, code
	latency    *prometheus.HistogramVec // route, code
	inFlight   prometheus.Gauge
	queueDepth prometheus.Gauge
	batchSize  prometheus.Histogram
	batchSecs  prometheus.Histogram
	rows       *prometheus.CounterVec // result
	loadSecs   prometheus.Gauge
	loadHist   prometheus.Histogram
	reloads    *prometheus.CounterVec // result
	modelInfo  *prometheus.GaugeVec   // name, sha256
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birnn_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "birnn_http_request_duration_seconds",
			Help:    "Time from request arrival to answer, by route and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5 ms … 16 s
		}, []string{"route", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "birnn_http_in_flight_requests",
			Help: "Requests being handled now.",
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "birnn_queue_depth_rows",
			Help: "Review rows waiting to be batched.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "birnn_batch_size_rows",
			Help:    "Rows per model call.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		batchSecs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "birnn_batch_duration_seconds",
			Help:    "Time of one model call.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birnn_rows_total",
			Help: "Review rows taken from the queue: scored, failed, or dropped because their request was gone.",
		}, []string{"result"}),
		loadSecs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "birnn_model_load_seconds",
			Help: "Time the serving model took to load and pass its probe.",
		}),
		loadHist: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "birnn_model_load_duration_seconds",
			Help:    "Time of every model load attempt (start-up and reloads).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birnn_model_reloads_total",
			Help: "Model reloads, by result (success, failure).",
		}, []string{"result"}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "birnn_model_info",
			Help: "1 for the model being served.",
		}, []string{"name", "sha256"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.queueDepth, m.batchSize, m.batchSecs,
		m.rows, m.loadSecs, m.loadHist, m.reloads, m.modelInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"success", "failure"} {
		m.reloads.WithLabelValues(r)
	}
	return m
}
