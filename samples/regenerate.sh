#!/usr/bin/env bash
# Rebuilds every sample log from scratch:
#   1. sections 1-6: builds each Go program in programs/ with -race and runs
#      it, writing exactly what it printed (stdout+stderr merged) to
#      logs/<name>.log. These case logs are made by go1.19.8, the toolchain
#      that made the committed ones (Debian's golang-1.19-go);
#   2. section 7: builds and runs the cross-version programs with every Go
#      release in GO_VERSIONS, writing logs/<name>.go1.NN.log, where go1.NN
#      is the release that printed it (the exact version is pinned in
#      GO_VERSIONS and recorded as goVersion in manifest.json);
#   3. runs derive.mjs, which writes the *.derived.* files from those logs;
#   4. runs check-manifest.mjs, which fails loudly if manifest.json no longer
#      matches the logs.
#
#   bash samples/regenerate.sh             # everything (deletes logs/ first)
#   bash samples/regenerate.sh --versions  # only section 7: deletes and
#                                          # rebuilds logs/*.go1.*.log and
#                                          # leaves the case logs as they are
#
# The set of programs and files is fixed; the race output itself (addresses,
# goroutine ids, +0x offsets, timestamps, pids, temp paths) varies per run.
# Racy programs exit 66, `go test` of a racy package exits 1: the script
# expects those statuses and stops if a program exits with anything else.
#
# Toolchains:
#   - go1.19.8: $RACEWATCH_GO119, default /usr/lib/go-1.19/bin/go
#     (`apt-get install -y golang-1.19-go`). It must report go1.19.8.
#   - every other release in GO_VERSIONS: the go command on PATH (go1.21 or
#     later) fetches it as a toolchain module (GOTOOLCHAIN=<version>), with
#     the GOPROXY and GOSUMDB that go uses outside this script, into
#     $RACEWATCH_TOOLCHAINS (default: that go's own module cache, so a
#     toolchain is fetched once). A release already on PATH is used as it is.
#   Only fetching a toolchain uses the network. Every build runs with
#   GOTOOLCHAIN=local GOPROXY=off and the fresh GOCACHE and GOPATH below.
set -euo pipefail

MODE=all
case "${1:-}" in
  "") ;;
  --versions) MODE=versions ;;
  *)
    echo "usage: regenerate.sh [--versions]" >&2
    exit 2
    ;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROGRAMS=$HERE/programs
LOGS=$HERE/logs
WORK=$(mktemp -d "${TMPDIR:-/tmp}/racewatch-samples.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

command -v go >/dev/null || { echo "regenerate.sh: go not found" >&2; exit 1; }
command -v node >/dev/null || { echo "regenerate.sh: node not found" >&2; exit 1; }

# The releases of section 7, oldest first. go1.19.8 is Debian's; the others
# are fetched (see above). range-func needs go1.23 or later (its go.mod says
# go 1.23, so an older go refuses to build it): section 7 skips it below that.
GO_VERSIONS=(go1.19.8 go1.21.13 go1.22.12 go1.23.12 go1.24.13 go1.25.9 go1.26.8)
GO119=${RACEWATCH_GO119:-/usr/lib/go-1.19/bin/go}
HOST_GO=$(command -v go)
# Read before this script turns the proxy off and moves GOPATH.
TOOLCHAIN_PROXY=$(cd / && "$HOST_GO" env GOPROXY)
TOOLCHAINS=${RACEWATCH_TOOLCHAINS:-$(cd / && "$HOST_GO" env GOMODCACHE)}

export GOTOOLCHAIN=local
export GOFLAGS=-mod=mod
export GOPROXY=off
export GOWORK=off
export GO111MODULE=on
export GOCACHE=$WORK/gocache
export GOPATH=$WORK/gopath
unset GORACE GOOS GOARCH 2>/dev/null || true

# go_of <version>: prints the path of a go command that is exactly <version>.
go_of() {
  local want=$1 root gobin
  if [[ $want == go1.19.8 ]]; then
    gobin=$GO119
    [[ -x $gobin ]] || { echo "regenerate.sh: $gobin not found (apt-get install -y golang-1.19-go, or set RACEWATCH_GO119)" >&2; exit 1; }
  else
    # GOTOOLCHAIN=<version> makes the go on PATH run (and first fetch) exactly
    # that release; `go env GOROOT` then names where it lives. Run in $WORK so
    # that no go.mod around the caller takes part.
    if ! root=$(cd "$WORK" && GOTOOLCHAIN=$want GOPROXY=$TOOLCHAIN_PROXY GOMODCACHE=$TOOLCHAINS GOFLAGS= \
      "$HOST_GO" env GOROOT); then
      echo "regenerate.sh: could not fetch toolchain $want with $("$HOST_GO" version) (GOPROXY=$TOOLCHAIN_PROXY)" >&2
      exit 1
    fi
    gobin=$root/bin/go
  fi
  local got
  got=$("$gobin" version)
  if [[ $got != "go version $want "* ]]; then
    echo "regenerate.sh: $gobin is '$got', expected $want" >&2
    exit 1
  fi
  echo "$gobin"
}

if [[ $MODE == all ]]; then
  rm -rf "$LOGS"
else
  rm -f "$LOGS"/*.go1.*.log
fi
mkdir -p "$LOGS" "$WORK/bin"

# run <expected-exit> <logfile> <command...>
# Appends the command's stdout+stderr to <logfile>; fails unless it exited
# with <expected-exit>.
run() {
  local want=$1 log=$2 rc
  shift 2
  set +e
  "$@" >>"$log" 2>&1
  rc=$?
  set -e
  if [[ $rc -ne $want ]]; then
    echo "regenerate.sh: '$*' exited $rc, expected $want (log: $log)" >&2
    exit 1
  fi
  echo "  ${log#"$HERE"/}: exit $rc" >&2
}

# build <program-dir> <output-binary> [go build flags...] [package]
# Builds with $GO (set per section).
build() {
  local dir=$1 out=$2
  shift 2
  (cd "$dir" && "$GO" build -race -o "$out" "$@")
}

if [[ $MODE == all ]]; then
  GO=$(go_of go1.19.8)
  echo "regenerate.sh: sections 1-6 with $("$GO" version), work dir $WORK" >&2

  # 1. One program, one run, one log.
  for p in struct-field map-race buffer-race generic-cache closures method-value \
           atomic-plain main-goroutine afterfunc clean-app; do
    build "$PROGRAMS/$p" "$WORK/bin/$p" .
    want=66
    [[ $p == clean-app ]] && want=0
    run "$want" "$LOGS/$p.log" "$WORK/bin/$p"
  done

  # 2. Case 10: the same bug through two callers, in both orders.
  build "$PROGRAMS/two-callers" "$WORK/bin/two-callers" .
  run 66 "$LOGS/two-callers.log" "$WORK/bin/two-callers"
  run 66 "$LOGS/two-callers-reversed.log" "$WORK/bin/two-callers" -reverse

  # 3. Case 11: soakd copied into two build directories. The b7 copy gets
  #    comment lines inserted at the top of the racy file (every line below
  #    moves down) and is built with -trimpath.
  A1=$WORK/builds/a1/svc
  B7=$WORK/builds/b7/svc
  mkdir -p "$A1" "$B7"
  cp -R "$PROGRAMS/soakd/." "$A1/"
  cp -R "$PROGRAMS/soakd/." "$B7/"
  {
    printf '// Copyright 2026 Soak Example Authors.\n'
    printf '//\n'
    printf '// Licensed under the Apache License, Version 2.0.\n'
    printf '//\n'
    printf '// Code owners: #team-sessions. This header was added by the b7 build\n'
    printf '// of regenerate.sh to shift every line of this file down by 7.\n'
    printf '\n'
    cat "$PROGRAMS/soakd/session/session.go"
  } >"$B7/session/session.go"
  build "$A1" "$WORK/bin/soakd-a1" ./cmd/soakd
  build "$B7" "$WORK/bin/soakd-b7" -trimpath ./cmd/soakd
  run 66 "$LOGS/soakd-build-a1.log" "$WORK/bin/soakd-a1"
  run 66 "$LOGS/soakd-build-b7-trimpath.log" "$WORK/bin/soakd-b7"

  # 4. Case 12: three lifetimes of the a1 build appended to one file.
  for _ in 1 2 3; do
    run 66 "$LOGS/soakd-restarts.log" "$WORK/bin/soakd-a1"
  done

  # 5. Case 13: a racy unit test, plain -v output and -json events.
  (cd "$PROGRAMS/metrics-test" && run 1 "$LOGS/metrics-test-v.log" "$GO" test -race -count=1 -v ./metrics)
  (cd "$PROGRAMS/metrics-test" && run 1 "$LOGS/metrics-test-json.log" "$GO" test -race -count=1 -json ./metrics)

  # 6. Case 14: GORACE=log_path. Each process writes its reports to
  #    <log_path>.<pid>; those pid-named files are renamed race.1, race.2 in
  #    run order. The application's own output stays on stdout/stderr and goes
  #    to soakd-stderr.log (no reports in it).
  mkdir -p "$LOGS/gorace-log-path" "$WORK/gorace"
  for n in 1 2; do
    rm -f "$WORK/gorace/"race.*
    run 66 "$LOGS/gorace-log-path/soakd-stderr.log" \
      env GORACE="log_path=$WORK/gorace/race" "$WORK/bin/soakd-a1"
    shopt -s nullglob
    files=("$WORK/gorace/"race.*)
    shopt -u nullglob
    if [[ ${#files[@]} -ne 1 ]]; then
      echo "regenerate.sh: expected exactly one race.<pid> file, got ${#files[@]}" >&2
      exit 1
    fi
    mv "${files[0]}" "$LOGS/gorace-log-path/race.$n"
    echo "  renamed ${files[0]##*/} -> logs/gorace-log-path/race.$n" >&2
  done
fi

# 7. Across Go releases: each program below, built and run with every release
#    of GO_VERSIONS, one log per release: logs/<stem>.go1.NN.log. The five
#    programs of section 1 listed here have their go1.19.8 log from section 1
#    (logs/<program>.log, kept byte for byte), so they start at the next
#    release. atomic-callers also runs with -reverse (<stem>
#    atomic-callers-reversed). range-func starts at go1.23.
CASE_PROGRAMS=(closures method-value atomic-plain map-race generic-cache)
NEW_PROGRAMS=(nested-closures inlined-closures sibling-closures goroutine-wrappers
              generic-func map-range atomic-callers range-func)

# minor <version>: go1.23.12 -> 23
minor() {
  local v=${1#go1.}
  echo "${v%%.*}"
}

for version in "${GO_VERSIONS[@]}"; do
  GO=$(go_of "$version")
  tag=go1.$(minor "$version")
  echo "regenerate.sh: section 7 with $("$GO" version)" >&2
  programs=()
  [[ $version != go1.19.8 ]] && programs+=("${CASE_PROGRAMS[@]}")
  for p in "${NEW_PROGRAMS[@]}"; do
    if [[ $p == range-func ]] && (($(minor "$version") < 23)); then
      continue
    fi
    programs+=("$p")
  done
  for p in "${programs[@]}"; do
    bin=$WORK/bin/$p.$tag
    build "$PROGRAMS/$p" "$bin" .
    run 66 "$LOGS/$p.$tag.log" "$bin"
    if [[ $p == atomic-callers ]]; then
      run 66 "$LOGS/atomic-callers-reversed.$tag.log" "$bin" -reverse
    fi
  done
done

# 8. Derived files (from all logs), then the manifest check.
node "$HERE/derive.mjs"
node "$HERE/check-manifest.mjs"
