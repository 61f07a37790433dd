#!/usr/bin/env bash
# Hyperlane vs DPDK 22.11, side by side, on this machine. See docs/performance.md.
#
# Usage: bench/run.sh [--runs N] [--duration S] [--cases a,b] [--quick] [--hugepages N]
#                     [--no-build] [--keep-tmp] [--list]
#   --runs N        runs per side per case (default 3); the sides alternate: HL, DPDK, HL, DPDK, ...
#                   (cases with more pairings run all of them in each round: the vhost cases run
#                   HL<->HL, DPDK<->DPDK, HL virtio_user<->DPDK net_vhost, DPDK virtio_user<->HL net_vhost)
#   --duration S    seconds per forwarding run (default 8)
#   --cases a,b     cases to run (default: all; --list shows them)
#   --quick         smoke test: 1 run, 3 s, short micro jobs; exits non-zero unless every case
#                   produced a figure on both sides (or says why DPDK cannot run) and the chart
#                   tool's --self-test passed (when the tool could be built)
#   --hugepages N   reserve N 2 MiB hugepages for the run (both sides then use them); the previous
#                   /proc/sys/vm/nr_hugepages is restored on exit, error or Ctrl-C. Default: leave
#                   the reservation as it is (0 means both sides run on 4 KiB pages)
#   --no-build      do not build the Hyperlane CLI, benchmarks and chart tool first (use what is in
#                   bin/Release)
#   --keep-tmp      keep the temporary work dir
# Environment: HLB_HYPERLANE_CMD overrides the Hyperlane command (default:
#   dotnet src/Hyperlane.Cli/bin/Release/net10.0/hyperlane.dll); HLB_RESULTS_DIR writes the results
#   somewhere else than bench/results (test.sh's smoke run uses its temporary directory).
#
# Output: a Markdown table on stdout; bench/results/<UTC date-time>.json (+ .md, a .png chart drawn
# by bench/Hyperlane.BenchChart, and raw logs in bench/results/<UTC date-time>/). bench/results/ is
# not in git. When the chart cannot be drawn, run.sh says so and keeps the benchmark's exit status.
#
# Adding a case: create bench/cases/<name>.sh defining
#   <name>_describe            one line: what it measures
#   <name>_conditions          one line: cores, packet size, burst, descriptors, ...
#   <name>_needs               what must be built first: "cli", "benchmarks" or nothing
#   <name>_hyperlane RUN DIR   one Hyperlane run; writes DIR/result.json (benchlib.py format)
#   <name>_dpdk RUN DIR        one DPDK run; same; when DPDK cannot run here, write an
#                              "unavailable" result (hlb_result unavailable ...) and return 3
#   <name>_pairings            optional: more than the two sides, one line per side in run order,
#                              "SIDE<TAB>TAG<TAB>LABEL" (the first two hyperlane and dpdk); each
#                              extra SIDE needs <name>_SIDE RUN DIR and gets its own report rows,
#                              <name>[TAG], with its ratio to the dpdk side (the vhost cases use it
#                              for their mixed Hyperlane/DPDK pairings)
# and add <name> to HLB_ALL_CASES below. Helpers (hlb_run, hlb_dpdk_prefix, hlb_dpdk_mem_args,
# hlb_result, ...) are in bench/lib/common.sh; parsers in bench/lib/benchlib.py.
set -euo pipefail

HLB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HLB_LIB=$HLB_ROOT/bench/lib
# shellcheck source=lib/common.sh
source "$HLB_LIB/common.sh"

HLB_ALL_CASES=(null_io ring_macswap micro tap_tx tap_rx af_packet_tx af_packet_rx failsafe_null_io failsafe_failover
  vhost_v2h vhost_h2v vhost_rt)

runs=3
HLB_DURATION=8
HLB_QUICK=0
cases_arg=""
hugepages=""
build=1
runs_set=0
duration_set=0

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=${2:?}; runs_set=1; shift 2 ;;
    --duration) HLB_DURATION=${2:?}; duration_set=1; shift 2 ;;
    --cases) cases_arg=${2:?}; shift 2 ;;
    --quick) HLB_QUICK=1; shift ;;
    --hugepages) hugepages=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep-tmp) export HLB_KEEP_TMP=1; shift ;;
    --list)
      for c in "${HLB_ALL_CASES[@]}"; do
        # shellcheck source=/dev/null
        source "$HLB_ROOT/bench/cases/$c.sh"
        printf '%-18s %s\n' "$c" "$("${c}_describe")"
      done
      exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [[ $HLB_QUICK == 1 ]]; then
  [[ $runs_set == 1 ]] || runs=1
  [[ $duration_set == 1 ]] || HLB_DURATION=3
fi
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || hlb_die "--runs must be a positive integer"
[[ "$HLB_DURATION" =~ ^[1-9][0-9]*$ ]] || hlb_die "--duration must be a positive integer (seconds)"
[[ -z "$hugepages" || "$hugepages" =~ ^[0-9]+$ ]] || hlb_die "--hugepages must be a number of 2 MiB pages"

if [[ -n "$cases_arg" ]]; then
  IFS=',' read -r -a cases <<<"$cases_arg"
else
  cases=("${HLB_ALL_CASES[@]}")
fi
for c in "${cases[@]}"; do
  [[ " ${HLB_ALL_CASES[*]} " == *" $c "* ]] || hlb_die "unknown case '$c' (known: ${HLB_ALL_CASES[*]})"
  # shellcheck source=/dev/null
  source "$HLB_ROOT/bench/cases/$c.sh"
done
export HLB_DURATION HLB_QUICK HLB_ROOT HLB_LIB

hlb_install_traps
hlb_init_tmp
cd "$HLB_ROOT"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
resdir=${HLB_RESULTS_DIR:-$HLB_ROOT/bench/results}
rawdir=$resdir/$stamp
mkdir -p "$rawdir/runs"
load_before=$(hlb_load_snapshot)
hlb_log "results: $resdir/$stamp.json (raw logs in $rawdir)"
hlb_log "load before: $load_before"

hp_before=$(hlb_hugepages_total)
if [[ -n "$hugepages" ]]; then
  hlb_hugepages_reserve "$hugepages"
fi
hp_now=$(hlb_hugepages_total)
if [[ "$hp_now" -gt 0 ]]; then
  memmode="hugepages: $hp_now x 2 MiB reserved ($(hlb_hugepages_free) free); DPDK --in-memory"
else
  memmode="no hugepages reserved: DPDK --no-huge, Hyperlane 4 KiB pages (+THP)"
fi
hlb_log "memory: $memmode"

# --- build what the selected cases need --------------------------------------------------------
needs=" "
for c in "${cases[@]}"; do needs+="$("${c}_needs") "; done

dotnet_build() { # PROJECT LOG
  dotnet build "$1" -c Release --disable-build-servers -nologo -v q >"$2" 2>&1
}

HLB_HYPERLANE=()
HLB_HYPERLANE_WHY=""
if [[ "$needs" == *" cli "* ]]; then
  if [[ -n "${HLB_HYPERLANE_CMD:-}" ]]; then
    read -r -a HLB_HYPERLANE <<<"$HLB_HYPERLANE_CMD"
  elif [[ ! -f "$HLB_ROOT/src/Hyperlane.Cli/Hyperlane.Cli.csproj" ]]; then
    HLB_HYPERLANE_WHY="src/Hyperlane.Cli does not exist"
  else
    ok=1
    if [[ $build == 1 ]]; then
      hlb_log "building src/Hyperlane.Cli (Release)"
      dotnet_build src/Hyperlane.Cli "$rawdir/build-cli.log" || ok=0
    fi
    dll=$HLB_ROOT/src/Hyperlane.Cli/bin/Release/net10.0/hyperlane.dll
    if [[ $ok == 0 ]]; then
      HLB_HYPERLANE_WHY="build failed: $(grep -m3 -E 'error' "$rawdir/build-cli.log" | tr '\n' ' ' | head -c 400)"
    elif [[ ! -f "$dll" ]]; then
      HLB_HYPERLANE_WHY="$dll not found"
    else
      HLB_HYPERLANE=(dotnet "$dll")
    fi
  fi
  [[ ${#HLB_HYPERLANE[@]} -gt 0 ]] || hlb_log "warning: Hyperlane CLI unavailable: $HLB_HYPERLANE_WHY"
fi

HLB_BENCH_DLL=""
HLB_BENCH_WHY=""
if [[ "$needs" == *" benchmarks "* ]]; then
  ok=1
  if [[ $build == 1 ]]; then
    hlb_log "building bench/Hyperlane.Benchmarks (Release)"
    dotnet_build bench/Hyperlane.Benchmarks "$rawdir/build-benchmarks.log" || ok=0
  fi
  dll=$HLB_ROOT/bench/Hyperlane.Benchmarks/bin/Release/net10.0/Hyperlane.Benchmarks.dll
  if [[ $ok == 0 ]]; then
    HLB_BENCH_WHY="build failed: $(grep -m3 -E 'error' "$rawdir/build-benchmarks.log" | tr '\n' ' ' | head -c 400)"
  elif [[ ! -f "$dll" ]]; then
    HLB_BENCH_WHY="$dll not found"
  else
    HLB_BENCH_DLL=$dll
  fi
  [[ -n "$HLB_BENCH_DLL" ]] || hlb_log "warning: benchmarks unavailable: $HLB_BENCH_WHY"
fi

# The chart tool (draws bench/results/<date>.png from the results JSON; never fails the suite).
HLB_CHART_DLL=$HLB_ROOT/bench/Hyperlane.BenchChart/bin/Release/net10.0/Hyperlane.BenchChart.dll
HLB_CHART_WHY=""
if [[ $build == 1 ]]; then
  hlb_log "building bench/Hyperlane.BenchChart (Release)"
  dotnet_build bench/Hyperlane.BenchChart "$rawdir/build-chart.log" ||
    HLB_CHART_WHY="build failed: $(grep -m3 -E 'error' "$rawdir/build-chart.log" | tr '\n' ' ' | head -c 400)"
fi
[[ -n "$HLB_CHART_WHY" || -f "$HLB_CHART_DLL" ]] || HLB_CHART_WHY="$HLB_CHART_DLL not found"
[[ -z "$HLB_CHART_WHY" ]] || hlb_log "warning: no chart this time: $HLB_CHART_WHY"

# hlb_case_sides CASE: the sides of CASE in run order (hyperlane dpdk, plus its extra pairings).
hlb_case_sides() {
  if declare -F "${1}_pairings" >/dev/null; then
    "${1}_pairings" | cut -f1 | tr '\n' ' '
  else
    echo hyperlane dpdk
  fi
}

# --- runs: A, B, A, B, ... -------------------------------------------------------------------
for ((run = 1; run <= runs; run++)); do
  for c in "${cases[@]}"; do
    for side in $(hlb_case_sides "$c"); do
      dir=$rawdir/$c/$side-$run
      mkdir -p "$dir"
      hlb_log "run $run/$runs: $c / $side"
      rc=0
      "${c}_${side}" "$run" "$dir" || rc=$?
      [[ -f "$dir/result.json" ]] || hlb_result failed "$c" "$side" "$run" "$dir" "case function exited $rc without a result"
      hlb_result_set "$dir" loadavg1 "$(cut -d' ' -f1 /proc/loadavg)"
      figure=$(python3 "$HLB_LIB/benchlib.py" finalize "$dir/result.json" "$c" "$side" "$run" "$rc")
      cp "$dir/result.json" "$rawdir/runs/$c-$side-$run.json"
      hlb_log "run $run/$runs: $c / $side: $figure"
    done
  done
done

# --- report ------------------------------------------------------------------------------------
load_after=$(hlb_load_snapshot)
hlb_log "load after: $load_after"

conditions_json=$(
  for c in "${cases[@]}"; do printf '%s\t%s\n' "$c" "$("${c}_conditions")"; done |
    python3 -c 'import json,sys; print(json.dumps(dict(l.rstrip("\n").split("\t",1) for l in sys.stdin if l.strip())))'
)
pairings_json=$(
  for c in "${cases[@]}"; do
    declare -F "${c}_pairings" >/dev/null || continue
    "${c}_pairings" | sed "s/^/$c\t/"
  done | python3 -c '
import json, sys
out = {}
for l in sys.stdin:
    f = l.rstrip("\n").split("\t")
    if len(f) >= 2:
        out.setdefault(f[0], []).append({"side": f[1], "tag": f[2] if len(f) > 2 else f[1],
                                         "label": f[3] if len(f) > 3 else f[1]})
print(json.dumps(out))'
)
git_rev=$(git -C "$HLB_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n "$(git -C "$HLB_ROOT" status --porcelain -- src 2>/dev/null)" ]] && git_rev+="+dirty"
HLB_META_CASES="${cases[*]}" HLB_META_CONDITIONS="$conditions_json" HLB_META_PAIRINGS="$pairings_json" \
HLB_META_RUNS=$runs HLB_META_STAMP=$stamp HLB_META_MEMMODE="$memmode" \
HLB_META_HP_BEFORE=$hp_before HLB_META_HP_RUN=$hp_now HLB_META_GIT=$git_rev \
HLB_META_LOAD_BEFORE="$load_before" HLB_META_LOAD_AFTER="$load_after" \
HLB_META_DPDK="$(pkg-config --modversion libdpdk 2>/dev/null || dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo unknown)" \
HLB_META_DOTNET="$(dotnet --version 2>/dev/null || echo unknown)" \
HLB_META_CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
HLB_META_MHZ="$(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2- | tr -d ' ')" \
python3 - "$rawdir/meta.json" <<'PY'
import json, os, sys, platform
e = os.environ
meta = {
    "startedUtc": e["HLB_META_STAMP"],
    "cases": e["HLB_META_CASES"].split(),
    "conditions": json.loads(e["HLB_META_CONDITIONS"]),
    "pairings": json.loads(e["HLB_META_PAIRINGS"]),
    "runs": int(e["HLB_META_RUNS"]),
    "duration": int(e["HLB_DURATION"]),
    "quick": e["HLB_QUICK"] == "1",
    "memoryMode": e["HLB_META_MEMMODE"],
    "hugepagesBefore": int(e["HLB_META_HP_BEFORE"]),
    "hugepagesDuringRun": int(e["HLB_META_HP_RUN"]),
    "git": e["HLB_META_GIT"],
    "dpdkVersion": e["HLB_META_DPDK"],
    "dotnet": e["HLB_META_DOTNET"],
    "host": "%s, %d CPUs, %s, TSC %s MHz, kernel %s" % (
        platform.node(), os.cpu_count(), e["HLB_META_CPU"], e["HLB_META_MHZ"], platform.release()),
    "load": {"before": e["HLB_META_LOAD_BEFORE"], "after": e["HLB_META_LOAD_AFTER"]},
    "order": "per run: every case, Hyperlane then DPDK (A, B, A, B, ...); cases with pairings run "
             "all of their pairings in that order in each run",
}
with open(sys.argv[1], "w") as f:
    json.dump(meta, f, indent=2)
PY

rc=0
python3 "$HLB_LIB/benchlib.py" report "$rawdir/runs" "$rawdir/meta.json" "$resdir/$stamp.json" \
  >"$resdir/$stamp.md" || rc=$?
cat "$resdir/$stamp.md"
hlb_log "wrote $resdir/$stamp.json and $resdir/$stamp.md"

# --- chart: bench/results/<date>.png next to the JSON; a failure here is reported, not fatal -------
chart_selftest=skipped
if [[ -n "$HLB_CHART_WHY" ]]; then
  hlb_log "chart: not drawn ($HLB_CHART_WHY)"
else
  if [[ ! -f "$resdir/$stamp.json" ]]; then
    hlb_log "chart: not drawn (no $resdir/$stamp.json)"
  elif dotnet "$HLB_CHART_DLL" "$resdir/$stamp.json" -o "$resdir/$stamp.png" >"$rawdir/chart.log" 2>&1; then
    hlb_log "wrote $resdir/$stamp.png (chart)"
  else
    hlb_log "warning: the chart tool failed (exit $?; log $rawdir/chart.log): $(tail -n 3 "$rawdir/chart.log" | tr '\n' ' ' | head -c 400)"
  fi
  if [[ $HLB_QUICK == 1 ]]; then
    # the smoke test also checks the renderer: a built-in sample, decoded back and checked pixel-wise
    if dotnet "$HLB_CHART_DLL" --self-test "$HLB_TMP/chart-selftest.png" >"$rawdir/chart-selftest.log" 2>&1; then
      chart_selftest=ok
      hlb_log "chart self-test: ok"
    else
      chart_selftest=failed
      hlb_log "chart self-test FAILED (log $rawdir/chart-selftest.log): $(grep -m3 FAILED "$rawdir/chart-selftest.log" | tr '\n' ' ' | head -c 400)"
    fi
  fi
fi

if [[ $rc == 3 ]]; then
  hlb_log "some case has no figure on one side (see Notes above)"
  [[ $HLB_QUICK == 1 ]] && exit 1
fi
[[ $rc == 0 || $rc == 3 ]] || exit "$rc"
# --quick: a failed chart self-test fails the smoke test (the chart of a full run never does)
[[ $chart_selftest != failed ]] || exit 1
exit 0
