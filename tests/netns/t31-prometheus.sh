#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t31: tcnetstat --prometheus.  After one encrypted connection from A to B,
# A's counters in the Prometheus text format are read back by a real
# parser (python3-prometheus-client): every counter of src/core/counters.h
# appears once, as tcpcryptd_NAME_total of type counter or, for the ones
# counters.h marks as gauges, tcpcryptd_NAME of type gauge, with the
# description as HELP; encrypted_flows is at least 1, and every value
# lies between those of two "tcnetstat -s --tsv" taken just before and
# just after.  An unreachable daemon: exit status 1 and nothing on stdout.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
TCNETSTAT=$(tc_find_built util/tcnetstat) || fail "util/tcnetstat is not built"
COUNTERS_H="$TC_SRCDIR/src/core/counters.h"
[[ -f $COUNTERS_H ]] || fail "$COUNTERS_H not found"

# The parser: Debian's python3-prometheus-client (scripts/install-deps).
# Another python3 first in PATH (pyenv) does not see Debian's modules.
PY=""
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import prometheus_client.parser' 2>/dev/null; then
		PY=$p
		break
	fi
done
[[ -n $PY ]] || fail "no python3 with prometheus_client: install python3-prometheus-client (scripts/install-deps)"

topo_setup
tc_start "$NS_A"
SOCK_A="$TC_WORK/ctl-$TC_DSEQ.sock"
tc_start "$NS_B"
[[ -S $SOCK_A ]] || fail "A's control socket $SOCK_A is missing"

# One encrypted connection A -> B.
make_payload "$TC_WORK/data.bin" 100000 "T31-$(rand_tag)"
socat_push 7031 "$TC_WORK/data.bin"
wait_for -m "daemon A logging an encrypted connection to port 7031" \
	grep -qE "encrypted .*:7031([^0-9]|$).*sid=" "${TC_DLOG[$NS_A]}"

# Snapshots: TSV, Prometheus (long and short option), TSV again.
tcn() { ns_exec "$NS_A" "$TCNETSTAT" -S "$SOCK_A" "$@"; }
tcn -s --tsv >"$TC_WORK/before.tsv" || fail "tcnetstat -s --tsv failed"
tcn -s --prometheus >"$TC_WORK/metrics.prom" || fail "tcnetstat -s --prometheus failed"
tcn -P >"$TC_WORK/short.prom" || fail "tcnetstat -P failed"
tcn -s --tsv >"$TC_WORK/after.tsv" || fail "tcnetstat -s --tsv failed"
log "$(grep -c '^tcpcryptd_' "$TC_WORK/metrics.prom") samples, $(wc -c <"$TC_WORK/metrics.prom") bytes"

# -P is --prometheus (and implies -s): the same metrics in the same order.
diff <(grep '^#' "$TC_WORK/metrics.prom") <(grep '^#' "$TC_WORK/short.prom") >/dev/null ||
	fail "-P and -s --prometheus print different metric names"

"$PY" - "$COUNTERS_H" "$TC_WORK/metrics.prom" "$TC_WORK/before.tsv" "$TC_WORK/after.tsv" <<'EOF' || fail "the Prometheus output: see above"
import re, sys
from prometheus_client.parser import text_string_to_metric_families

header, prom, before, after = sys.argv[1:]

# The counter list of counters.h: C(name, "description") for counters,
# G(name, "description") for gauges, inside TC_COUNTER_LIST.
hdr = open(header).read()
m = re.search(r"#define TC_COUNTER_LIST\(C, G\)(.*?)\n\n", hdr, re.S)
assert m, "no TC_COUNTER_LIST in counters.h"
want = {}
for kind, name, desc in re.findall(r'^\s*([CG])\((\w+), "((?:[^"\\]|\\.)*)"\)', m.group(1), re.M):
    want[name] = ("gauge" if kind == "G" else "counter", desc)
n_lines = len(re.findall(r"^\s*\w\(", m.group(1), re.M))
assert len(want) == n_lines, "read %d of %d entries of counters.h" % (len(want), n_lines)
assert len(want) > 40 and want["flows_active"][0] == "gauge", "counters.h not read right"

def tsv(path):
    lines = open(path).read().splitlines()
    assert lines[0] == "name\tvalue", lines[0]
    return {n: int(v) for n, v in (l.split("\t") for l in lines[1:])}
t0, t1 = tsv(before), tsv(after)

text = open(prom).read()
assert text.endswith("\n"), "output does not end with a line feed"
fams = list(text_string_to_metric_families(text))
got = {}
for f in fams:
    assert f.name.startswith("tcpcryptd_"), f.name
    name = f.name[len("tcpcryptd_"):]
    assert name not in got, "%s twice" % f.name
    assert len(f.samples) == 1, "%s: %d samples" % (f.name, len(f.samples))
    got[name] = f
missing = sorted(set(want) - set(got))
extra = sorted(set(got) - set(want))
assert not missing and not extra, "missing %s, unexpected %s" % (missing, extra)

for name, (kind, desc) in want.items():
    f = got[name]
    s = f.samples[0]
    sample = "tcpcryptd_" + name + ("_total" if kind == "counter" else "")
    assert f.type == kind, "%s: type %s, want %s" % (f.name, f.type, kind)
    assert s.name == sample, "%s: sample %s, want %s" % (f.name, s.name, sample)
    assert s.labels == {}, "%s: labels %s" % (f.name, s.labels)
    assert f.documentation == desc, "%s: HELP %r, want %r" % (f.name, f.documentation, desc)
    # The line as written: "NAME VALUE", an integer.
    assert re.search(r"^%s (\d+)$" % sample, text, re.M), "%s: no integer sample line" % sample
    v, a, b = s.value, t0[name], t1[name]
    if a == b:
        assert v == a, "%s = %s, tcnetstat -s --tsv says %d" % (sample, v, a)
    else:
        # moved between the two snapshots; counters only grow
        assert kind == "gauge" or a < b, "%s fell from %d to %d" % (name, a, b)
        assert min(a, b) <= v <= max(a, b), "%s = %s, not between %d and %d" % (sample, v, a, b)

enc = got["encrypted_flows"].samples[0].value
assert enc >= 1, "tcpcryptd_encrypted_flows_total is %s, want >= 1" % enc
moved = [n for n in want if t0[n] != t1[n]]
print("%d metrics (%d gauges) parsed; encrypted_flows=%d; moved meanwhile: %s"
      % (len(got), sum(1 for k, _ in want.values() if k == "gauge"), enc, moved or "none"))
EOF
log "parsed by prometheus_client: every counter of counters.h, types and HELP right, values = --tsv"

# Usage: one output format at a time.
rc=0
tcn -P --json >/dev/null 2>&1 || rc=$?
((rc == 2)) || fail "--prometheus --json: status $rc, want 2"

# An unreachable daemon: status 1 as for -s --tsv, and not a byte on
# stdout (a textfile collector must never get a partial file).
rc=0
ns_exec "$NS_A" "$TCNETSTAT" -S "$TC_WORK/no-such.sock" --prometheus >"$TC_WORK/down.prom" \
	2>"$TC_WORK/down.err" || rc=$?
((rc == 1)) || fail "unreachable daemon: status $rc, want 1"
[[ ! -s $TC_WORK/down.prom ]] || fail "unreachable daemon: stdout not empty: $(head -c 200 "$TC_WORK/down.prom")"
grep -q "cannot reach tcpcryptd" "$TC_WORK/down.err" || fail "unreachable daemon: $(cat "$TC_WORK/down.err")"
log "unreachable daemon: status 1, stdout empty"

tc_stop "$NS_A"
tc_stop "$NS_B"
expect_counter "$NS_A" mac_fail 0
log "PASS"
