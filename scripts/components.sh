#!/usr/bin/env bash
# Builds the real components the `rie`, `otelcol`, `jaeger` and `lwa` tests run against, from
# pinned Go modules and a pinned crate, into .components/bin (gitignored), and prints one line per
# binary:
#   RIE_BIN=...  OTELCOL_BIN=...  JAEGER_BIN=...  LWA_BIN=...
# A binary already built at the pinned version is reused (a stamp file records the pin), so a
# second run prints the same lines in well under a second. Go's module and build caches are
# the usual ones (GOMODCACHE, GOCACHE); every build is bounded by `timeout`.
#
# Use:  eval "$(scripts/components.sh)"   (CI: .ci/run exports the lines before pytest)
# Env:  COMPONENTS_DIR (default .components), COMPONENTS_BUILD_TIMEOUT_S (per binary, default 1200)
set -euo pipefail

# AWS Lambda Runtime Interface Emulator: the repository has no Go-module tags, so the pin is the
# pseudo-version of its newest commit on the proxy when this was written (`go list -m ...@latest`).
RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
# OpenTelemetry Collector Builder: the Collector version the opentelemetry-lambda layer 0.23.0
# pins (v0.157.0); the manifest's components carry the same version.
BUILDER_VERSION=v0.157.0
# Jaeger v2: cmd/jaeger is the v2 binary. The module path has no /v2 suffix, so the proxy serves
# v2 releases under their v1 twin tags (v1.76.0 = v2.13.0).
JAEGER_VERSION=v1.76.0

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${COMPONENTS_DIR:-$ROOT/.components}"
BIN="$DIR/bin"
TIMEOUT_S="${COMPONENTS_BUILD_TIMEOUT_S:-1200}"
MANIFEST="$ROOT/collector/ocb/otelcol-builder.yaml"
# AWS Lambda Web Adapter: the crate's binary `lambda-adapter`, built with its lock file.
LWA_CRATE=lambda_web_adapter
LWA_VERSION=1.0.0-rc1
mkdir -p "$BIN"

log() { echo "components: $*" >&2; }

# fresh NAME PIN: true when BIN/NAME exists and was built from PIN.
fresh() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1.pin" 2>/dev/null)" = "$2" ]; }

# The adapter first: it needs cargo, not Go. cargo install --root puts it in ROOT/bin.
lwa_pin="$LWA_CRATE@$LWA_VERSION"
if ! command -v cargo >/dev/null 2>&1; then
  log "no cargo on PATH: the Lambda Web Adapter not built (the lwa tests will skip)"
elif ! fresh lambda-adapter "$lwa_pin"; then
  start=$SECONDS
  log "building lambda-adapter from $lwa_pin"
  nice -n 10 timeout "$TIMEOUT_S" cargo install --quiet --locked --root "$DIR/cargo" \
    "$LWA_CRATE" --version "$LWA_VERSION" >&2
  cp "$DIR/cargo/bin/lambda-adapter" "$BIN/lambda-adapter"
  echo "$lwa_pin" >"$BIN/.lambda-adapter.pin"
  log "built lambda-adapter in $((SECONDS - start)) s"
fi
if fresh lambda-adapter "$lwa_pin"; then
  echo "LWA_BIN=$BIN/lambda-adapter"
fi

if ! command -v go >/dev/null 2>&1; then
  log "no Go toolchain on PATH: nothing built (the rie/otelcol/jaeger tests will skip)"
  exit 0
fi

# go_install NAME PACKAGE@VERSION
go_install() {
  local name=$1 target=$2 start=$SECONDS
  if fresh "$name" "$target"; then return; fi
  log "building $name from $target"
  GOBIN="$BIN" GOFLAGS=-mod=mod nice -n 10 timeout "$TIMEOUT_S" go install "$target" >&2
  echo "$target" >"$BIN/.$name.pin"
  log "built $name in $((SECONDS - start)) s"
}

go_install aws-lambda-rie "$RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION"

# Jaeger: its go.mod has a replace directive, which `go install pkg@version` refuses, so the
# pinned module is downloaded through the proxy and built as the main module (a copy: the
# module cache is read-only).
jaeger_pin="github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION"
if ! fresh jaeger "$jaeger_pin"; then
  start=$SECONDS
  log "building jaeger from $jaeger_pin"
  src_dir=$(timeout "$TIMEOUT_S" go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$DIR/jaeger-src"
  cp -r "$src_dir" "$DIR/jaeger-src"
  chmod -R u+w "$DIR/jaeger-src"
  (cd "$DIR/jaeger-src" && GOFLAGS=-mod=mod nice -n 10 timeout "$TIMEOUT_S" \
    go build -o "$BIN/jaeger" ./cmd/jaeger) >&2
  rm -rf "$DIR/jaeger-src"
  echo "$jaeger_pin" >"$BIN/.jaeger.pin"
  log "built jaeger in $((SECONDS - start)) s"
fi

# The collector: the pin is the builder version plus the manifest's content.
otelcol_pin="builder@$BUILDER_VERSION $(sha256sum "$MANIFEST" | cut -c1-16)"
if ! fresh otelcol-lambda-init "$otelcol_pin"; then
  go_install builder "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
  start=$SECONDS
  log "building otelcol-lambda-init from $MANIFEST"
  work="$DIR/otelcol-build"
  rm -rf "$work"
  mkdir -p "$work"
  # The manifest's output_path is replaced so the build happens under DIR wherever we run.
  sed "s|^  output_path: .*|  output_path: $work|" "$MANIFEST" >"$DIR/otelcol-builder.yaml"
  (cd "$DIR" && nice -n 10 timeout "$TIMEOUT_S" "$BIN/builder" \
    --config "$DIR/otelcol-builder.yaml") >&2
  cp "$work/otelcol-lambda-init" "$BIN/otelcol-lambda-init"
  echo "$otelcol_pin" >"$BIN/.otelcol-lambda-init.pin"
  log "built otelcol-lambda-init in $((SECONDS - start)) s"
fi

echo "RIE_BIN=$BIN/aws-lambda-rie"
echo "OTELCOL_BIN=$BIN/otelcol-lambda-init"
echo "JAEGER_BIN=$BIN/jaeger"
