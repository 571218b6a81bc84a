package httpx

import (
	"context"
	"strings"
)

// TraceParentHeader is the W3C Trace Context header.
const TraceParentHeader = "Traceparent"

// ValidTraceParent reports whether v is a W3C traceparent
// (version-traceid-parentid-flags in lowercase hex, trace and parent ids
// not all zero, version not ff). Only valid ones are logged, so a header
// cannot inject text into the log.
func ValidTraceParent(v string) bool {
	if len(v) != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return false
	}
	for i, c := range v {
		if i == 2 || i == 35 || i == 52 {
			continue
		}
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return v[:2] != "ff" && v[3:35] != strings.Repeat("0", 32) && v[36:52] != strings.Repeat("0", 16)
}

// TraceID returns the trace id of a valid traceparent, else "".
func TraceID(traceparent string) string {
	if !ValidTraceParent(traceparent) {
		return ""
	}
	return traceparent[3:35]
}

type traceKey struct{}

// WithTraceParent records a traceparent that came inside a message (the
// _meta of an MCP request) rather than in the request's header: it goes
// into the request's log line (LogRequests) and into ctx, whose later log
// lines and audit entries read it with TraceParent. An invalid value is
// ignored.
func WithTraceParent(ctx context.Context, traceparent string) context.Context {
	if !ValidTraceParent(traceparent) {
		return ctx
	}
	Annotate(ctx, "traceparent", traceparent)
	return context.WithValue(ctx, traceKey{}, traceparent)
}

// TraceParent returns the traceparent of the request ctx belongs to:
// the one recorded with WithTraceParent, else the request's valid
// Traceparent header, else "".
func TraceParent(ctx context.Context) string {
	if tp, ok := ctx.Value(traceKey{}).(string); ok {
		return tp
	}
	if ann, ok := ctx.Value(annotationsKey{}).(*annotations); ok {
		return ann.traceparent
	}
	return ""
}
