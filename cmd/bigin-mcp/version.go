package main

import (
	"runtime/debug"
	"strings"
)

// version may be set at build time with -ldflags "-X main.version=…"
// (the Docker image does, from its VERSION build argument); when it is
// empty the version comes from the build itself.
var version string

// buildVersion is the version reported by `version`, in the log and to
// MCP clients.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	return versionFrom(version, info, ok)
}

// versionFrom picks, in order: the version stamped with -ldflags; the
// module version (a `go install …@v1.2.3` build); the VCS revision of a
// build from a checkout ("devel-<12 hex>", "-dirty" with local changes);
// "dev" when the build says nothing.
func versionFrom(stamped string, info *debug.BuildInfo, ok bool) string {
	if stamped = strings.TrimSpace(stamped); stamped != "" {
		return stamped
	}
	if !ok || info == nil {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "devel-" + rev
	if dirty {
		v += "-dirty"
	}
	return v
}
