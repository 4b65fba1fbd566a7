#!/usr/bin/env bash
# Rebuilds every sample log from scratch:
#   1. builds each Go program in programs/ with -race and runs it, writing
#      exactly what it printed (stdout+stderr merged) to logs/<name>.log;
#   2. runs derive.mjs, which writes the *.derived.* files from those logs;
#   3. runs check-manifest.mjs, which fails loudly if manifest.json no longer
#      matches the logs.
#
# The set of programs and files is fixed; the race output itself (addresses,
# goroutine ids, +0x offsets, timestamps, pids, temp paths) varies per run.
# Racy programs exit 66, `go test` of a racy package exits 1: the script
# expects those statuses and stops if a program exits with anything else.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROGRAMS=$HERE/programs
LOGS=$HERE/logs
WORK=$(mktemp -d "${TMPDIR:-/tmp}/racewatch-samples.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

export GOTOOLCHAIN=local
export GOFLAGS=-mod=mod
export GOPROXY=off
export GOWORK=off
export GO111MODULE=on
export GOCACHE=$WORK/gocache
export GOPATH=$WORK/gopath
unset GORACE GOOS GOARCH 2>/dev/null || true

command -v go >/dev/null || { echo "regenerate.sh: go not found" >&2; exit 1; }
command -v node >/dev/null || { echo "regenerate.sh: node not found" >&2; exit 1; }
echo "regenerate.sh: $(go version), work dir $WORK" >&2

rm -rf "$LOGS"
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
build() {
  local dir=$1 out=$2
  shift 2
  (cd "$dir" && go build -race -o "$out" "$@")
}

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
(cd "$PROGRAMS/metrics-test" && run 1 "$LOGS/metrics-test-v.log" go test -race -count=1 -v ./metrics)
(cd "$PROGRAMS/metrics-test" && run 1 "$LOGS/metrics-test-json.log" go test -race -count=1 -json ./metrics)

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

# 7. Derived files, then the manifest check.
node "$HERE/derive.mjs"
node "$HERE/check-manifest.mjs"
