package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}} {
		assert.Equal(t, tt.want, percentile(d, tt.p), "p%v", tt.p)
	}
	assert.Equal(t, time.Duration(0), percentile(nil, 99))
	assert.Equal(t, 7*time.Millisecond, percentile([]time.Duration{7 * time.Millisecond}, 99))
}

func TestOnlyLoopbackTargets(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/mcp/x", "http://localhost:1", "http://[::1]:80/"} {
		assert.NoError(t, checkLoopbackURL(u), u)
	}
	for _, u := range []string{"http://10.0.0.1:8080/", "https://example.com/mcp", "http://192.168.1.2/", "not a url"} {
		assert.Error(t, checkLoopbackURL(u), u)
	}
}

func TestModeFlagsAreBounded(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{
		{"calls", "-c", "0"}, {"calls", "-n", "0"}, {"calls", "-c", "100000"},
		{"sse", "-k", "0"}, {"sse", "-k", "1000000"},
		{"accounts", "-m", "0"}, {"accounts", "-c", "5000"},
		{"urls", "-n", "0"}, {"frobnicate"}, {},
	} {
		assert.Error(t, run(ctx, args, io.Discard), "%v", args)
	}
}
