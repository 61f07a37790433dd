#!/usr/bin/env bash
# Installs what the tests need, builds everything, runs every test and the benchmark smoke test
# (bench/run.sh --quick), and ends with one line:
#   tests: N passed, N failed[, N skipped]
# Exit status is 0 only when the build succeeded and no test failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# ---- 1. System packages the tests use (installed only when missing) ----
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# DPDK 22.11's testpmd is the peer of the vhost-user interop tests (dpdk-peer.md: only dpdk-dev ships it).
[ -x /usr/bin/dpdk-testpmd ] || need+=(dpdk-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: missing packages ${need[*]} and not root: install them, or tests that need them will skip (fail under CI=true)" >&2
  else
    archives="$(mktemp -d /tmp/hyperlane-apt.XXXXXX)"
    echo "test.sh: installing ${need[*]}" >&2
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || true
    apt-get -o DPkg::Lock::Timeout=600 -o Dir::Cache::Archives="$archives" install -y -qq --no-install-recommends "${need[@]}" >&2 || echo "test.sh: apt-get install failed" >&2
    rm -rf "$archives"
  fi
fi

# ---- 2. Build ----
results="$(mktemp -d /tmp/hyperlane-tests.XXXXXX)"
trap 'rm -rf "$results"' EXIT
if ! dotnet build Hyperlane.slnx -c Release --nologo -v quiet >"$results/build.log" 2>&1; then
  grep -E 'error|Error' "$results/build.log" | sort -u | head -40 >&2
  echo "test.sh: build failed" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

# ---- 3. Test ----
projects=(tests/*/*.Tests.csproj)
dotnet test Hyperlane.slnx -c Release --no-build --nologo -v quiet \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" 2>&1 \
  | grep -vE '^\s*$|^Test run for|^VSTest version|^A total of|^Starting test execution|^Results File' 
test_rc=${PIPESTATUS[0]}

# ---- 4. Summary from the TRX files (one per test project) ----
read -r passed failed skipped trx_count < <(python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
p = f = s = n = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    n += 1
    c = ET.parse(path).getroot().find(".//{*}Counters")
    if c is None:
        f += 1
        continue
    p += int(c.get("passed", 0))
    f += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    s += int(c.get("notExecuted", 0)) + int(c.get("inconclusive", 0))
print(p, f, s, n)
PY
)
if [ "${trx_count:-0}" -lt "${#projects[@]}" ]; then
  echo "test.sh: only ${trx_count:-0} of ${#projects[@]} test projects reported results (a test host crashed?)" >&2
  failed=$(( ${failed:-0} + ${#projects[@]} - ${trx_count:-0} ))
fi
if [ "$test_rc" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then
  echo "test.sh: dotnet test exited with $test_rc" >&2
  failed=1
fi

# ---- 5. Benchmark smoke test: bench/run.sh --quick runs every case once, briefly, on both sides and fails
#         unless each one produced a figure (or says why DPDK cannot run); it never judges a figure ----
if [ "$(id -u)" -ne 0 ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "test.sh: bench smoke test needs root (namespaces, taps) and CI=true: counted as failed" >&2
    failed=$(( ${failed:-0} + 1 ))
  else
    echo "test.sh: bench smoke test skipped: needs root (namespaces, taps, hugepage-free DPDK runs)" >&2
    skipped=$(( ${skipped:-0} + 1 ))
  fi
elif HLB_RESULTS_DIR="$results/bench" timeout -k 10 1200 bench/run.sh --quick --no-build >"$results/bench.log" 2>&1; then
  echo "test.sh: bench smoke test passed (bench/run.sh --quick: every case gave a figure)" >&2
  passed=$(( ${passed:-0} + 1 ))
else
  echo "test.sh: bench smoke test failed (bench/run.sh --quick); the end of its log:" >&2
  tail -n 30 "$results/bench.log" >&2
  failed=$(( ${failed:-0} + 1 ))
fi

line="tests: ${passed:-0} passed, ${failed:-0} failed"
[ "${skipped:-0}" -gt 0 ] && line="$line, ${skipped} skipped"
echo "$line"
[ "${failed:-0}" -eq 0 ]
