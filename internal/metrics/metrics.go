// Package metrics holds bigin-mcp's Prometheus collectors, named after
// the OpenTelemetry MCP and HTTP semantic conventions (dots become
// underscores, durations are in seconds). The wiring (internal/app) feeds
// them from the seams: the request log, the MCP server's middleware, the
// Bigin client's observer, and gauges read through methods. No label value
// is ever an id, a token, a path with an id or a user.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Gauges are read when scraped; nil functions are not exported.
type Gauges struct {
	// MCPURLs is how many MCP URLs the server serves.
	MCPURLs func() int
	// OpenSSEStreams is how many legacy SSE streams are open.
	OpenSSEStreams func() int
}

// Metrics is one registry of collectors (one per App: nothing is
// registered globally).
type Metrics struct {
	reg         *prometheus.Registry
	mcpOp       *prometheus.HistogramVec
	httpReq     *prometheus.HistogramVec
	upstream    *prometheus.HistogramVec
	refreshes   *prometheus.CounterVec
	rateLimited prometheus.Counter
}

// operationBuckets span 10 ms to 300 s: an MCP call waits on Zoho, which
// can be slow, and a client gives up after minutes.
var operationBuckets = []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}

// New builds the collectors, with the Go runtime and process collectors,
// and the gauges g.
func New(g Gauges) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		mcpOp: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcp_server_operation_duration_seconds",
			Help:    "Duration of MCP requests handled by the server, by JSON-RPC method, tool and error type.",
			Buckets: operationBuckets,
		}, []string{"mcp_method_name", "gen_ai_tool_name", "error_type"}),
		httpReq: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_server_request_duration_seconds",
			Help:    "Duration of HTTP requests, by route pattern, method and status.",
			Buckets: operationBuckets,
		}, []string{"http_route", "http_request_method", "http_response_status_code"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bigin_upstream_request_duration_seconds",
			Help:    "Duration of requests to the Zoho Bigin API, by datacenter, operation and status (0: no answer).",
			Buckets: operationBuckets,
		}, []string{"datacenter", "operation", "http_response_status_code"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bigin_token_refreshes_total",
			Help: "Zoho access-token refreshes, by result (ok, refused, error).",
		}, []string{"result"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bigin_upstream_rate_limited_total",
			Help: "Requests to the Zoho Bigin API that Zoho refused for its rate limits or credits.",
		}),
	}
	m.reg.MustRegister(m.mcpOp, m.httpReq, m.upstream, m.refreshes, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if g.MCPURLs != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "bigin_mcp_urls", Help: "MCP URLs the server serves.",
		}, func() float64 { return float64(g.MCPURLs()) }))
	}
	if g.OpenSSEStreams != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "bigin_mcp_open_sse_streams", Help: "Open legacy SSE streams.",
		}, func() float64 { return float64(g.OpenSSEStreams()) }))
	}
	// The refresh results are few and known: export them at zero.
	for _, r := range []string{"ok", "refused", "error"} {
		m.refreshes.WithLabelValues(r)
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry returns the registry (for tests that gather it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveMCP records one MCP operation.
func (m *Metrics) ObserveMCP(method, tool, errorType string, d time.Duration) {
	m.mcpOp.WithLabelValues(method, tool, errorType).Observe(d.Seconds())
}

// knownHTTPMethods are reported by name; any other is "_OTHER", as the
// HTTP conventions ask, so a client cannot grow the label values.
var knownHTTPMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodConnect: true, http.MethodOptions: true, http.MethodTrace: true,
}

// ObserveHTTP records one answered HTTP request; route must be a
// pattern, never a raw path.
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	if !knownHTTPMethods[method] {
		method = "_OTHER"
	}
	m.httpReq.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// ObserveUpstream records one request to Zoho.
func (m *Metrics) ObserveUpstream(datacenter, operation string, status int, rateLimited bool, d time.Duration) {
	m.upstream.WithLabelValues(datacenter, operation, strconv.Itoa(status)).Observe(d.Seconds())
	if rateLimited {
		m.rateLimited.Inc()
	}
}

// ObserveRefresh counts one token refresh.
func (m *Metrics) ObserveRefresh(result string) { m.refreshes.WithLabelValues(result).Inc() }
