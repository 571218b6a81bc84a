# Multi-stage build: a static bigin-mcp binary on a minimal, non-root image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build context has no .git, so the version cannot come from VCS
# stamps here: pass it, e.g. --build-arg VERSION=$(git describe --always).
# Left empty, the binary reports what the build info knows ("dev").
ARG VERSION=
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/bigin-mcp ./cmd/bigin-mcp \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bigin-mcp /usr/local/bin/bigin-mcp
COPY --from=build --chown=65532:65532 /out/data /data
ENV BIGIN_MCP_ADDR=0.0.0.0:8080 \
    BIGIN_MCP_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
# distroless has no curl: the binary checks itself (GET /healthz on
# BIGIN_MCP_ADDR, over HTTPS when TLS is configured).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/bigin-mcp", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/bigin-mcp"]
CMD ["serve"]
