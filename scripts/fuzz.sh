#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# fuzz.sh: build the libFuzzer harnesses of tests/fuzz/ with clang
# (ASan + UBSan) into build-fuzz/, replay every saved regression input, then
# fuzz each harness for a while on a copy of its seed corpus.
#
#   scripts/fuzz.sh [--time SECONDS] [--jobs N] [HARNESS...]
#   scripts/fuzz.sh --gen-corpus      # rewrite the synthetic seed files
#
# HARNESS is packet, eno, kx, ctl, engine or decrypt (or fuzz_packet...);
# default all.
# --time: seconds per harness (default 60; 0 only builds and replays).
# --jobs: harnesses fuzzed at once (default 2).
# Exits non-zero if a regression input crashes or a harness finds a crash;
# crash inputs are kept in build-fuzz/crashes/, logs in build-fuzz/logs/.
# Needs clang with the libFuzzer runtime (Debian: clang libclang-rt-14-dev,
# both installed by scripts/install-deps), libsodium-dev, libssl-dev
# (libcrypto) and, for decrypt, libpcap-dev.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build-fuzz
ALL=(packet eno kx ctl engine decrypt)
TIME=60
JOBS=2
GEN=0
harnesses=()

usage() {
	sed -n '2,17p' "$ROOT/scripts/fuzz.sh" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--time) TIME=${2:?--time needs a value}; shift 2 ;;
	--time=*) TIME=${1#--time=}; shift ;;
	--jobs) JOBS=${2:?--jobs needs a value}; shift 2 ;;
	--jobs=*) JOBS=${1#--jobs=}; shift ;;
	--gen-corpus) GEN=1; shift ;;
	-h|--help) usage 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; usage ;;
	*) harnesses+=("${1#fuzz_}"); shift ;;
	esac
done
[[ $TIME =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --time must be a number of seconds" >&2; exit 2; }
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --jobs must be a positive number" >&2; exit 2; }
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=("${ALL[@]}")
for h in "${harnesses[@]}"; do
	[[ -f tests/fuzz/fuzz_$h.c ]] || { echo "fuzz.sh: no harness tests/fuzz/fuzz_$h.c" >&2; exit 2; }
done

# ---------------------------------------------------------------------------
# Toolchain

CC=${FUZZ_CC:-}
if [[ -z $CC ]]; then
	for c in clang clang-14 clang-15 clang-16 clang-13; do
		if command -v "$c" >/dev/null 2>&1; then CC=$c; break; fi
	done
fi
if [[ -z $CC ]]; then
	echo "fuzz.sh: clang not found (run scripts/install-deps)" >&2
	exit 1
fi
for lib in libsodium libcrypto; do
	if ! pkg-config --exists "$lib"; then
		echo "fuzz.sh: $lib not found by pkg-config (run scripts/install-deps)" >&2
		exit 1
	fi
done

mkdir -p "$OUT/obj" "$OUT/logs" "$OUT/crashes" "$OUT/corpus"

probe=$OUT/obj/probe.c
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe" -o "$OUT/obj/probe" 2>"$OUT/logs/probe.log"; then
	echo "fuzz.sh: $CC cannot build libFuzzer programs (Debian: apt-get install libclang-rt-14-dev)" >&2
	cat "$OUT/logs/probe.log" >&2
	exit 1
fi

CFLAGS=(-g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter
	"-fsanitize=address,undefined" -fno-sanitize-recover=all -fno-omit-frame-pointer)
read -r -a DEP_CFLAGS <<<"$(pkg-config --cflags libsodium libcrypto)"
read -r -a DEP_LIBS <<<"$(pkg-config --libs libsodium libcrypto)"

# The functional core (src/core/): the harnesses need nothing of the
# daemon's I/O shell (src/daemon/).
core=(src/core/*.c)

echo "fuzz.sh: building with $("$CC" --version | head -1)"
objs=()
for f in "${core[@]}"; do
	o=$OUT/obj/$(basename "${f%.c}").o
	"$CC" "${CFLAGS[@]}" -fsanitize=fuzzer-no-link -Isrc/core "${DEP_CFLAGS[@]}" -c "$f" -o "$o"
	objs+=("$o")
done
for h in "${harnesses[@]}"; do
	# decrypt is the tcpcrypt-decrypt tool itself, which reads captures
	# with libpcap.
	extra=()
	if [[ $h == decrypt ]]; then
		read -r -a extra <<<"$(pkg-config --cflags --libs libpcap 2>/dev/null || echo -lpcap)"
	fi
	"$CC" "${CFLAGS[@]}" -fsanitize=fuzzer -Isrc/core -Itests/fuzz "${DEP_CFLAGS[@]}" \
		"tests/fuzz/fuzz_$h.c" "${objs[@]}" "${DEP_LIBS[@]}" "${extra[@]}" -o "$OUT/fuzz_$h"
done

if [[ $GEN -eq 1 ]]; then
	# The seeds built with pkt_build/kx_*_encode (tests/fuzz/gen_corpus.c);
	# the tcpdump captures (corpus/*/linux-*) and etc/tcpcryptd.conf stay.
	"$CC" "${CFLAGS[@]}" -Isrc/core "${DEP_CFLAGS[@]}" tests/fuzz/gen_corpus.c "${objs[@]}" \
		"${DEP_LIBS[@]}" -o "$OUT/gen_corpus"
	"$OUT/gen_corpus" tests/fuzz/corpus
	cp etc/tcpcryptd.conf tests/fuzz/corpus/ctl/tcpcryptd.conf
	echo "fuzz.sh: seed corpus written to tests/fuzz/corpus/"
	exit 0
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# ---------------------------------------------------------------------------
# Regression inputs: every file must run cleanly.

status=0
for h in "${harnesses[@]}"; do
	dir=tests/fuzz/regressions/$h
	mapfile -t files < <(find "$dir" -type f ! -name '*.md' ! -name '.*' 2>/dev/null | sort)
	if [[ ${#files[@]} -eq 0 ]]; then
		continue
	fi
	if "$OUT/fuzz_$h" -rss_limit_mb=2048 -timeout=30 "${files[@]}" >"$OUT/logs/$h-regressions.log" 2>&1; then
		printf '%-8s regressions: %d inputs replayed, ok\n' "$h" "${#files[@]}"
	else
		printf '%-8s regressions: FAILED (see %s)\n' "$h" "build-fuzz/logs/$h-regressions.log"
		grep -m3 -E 'ERROR: |FUZZ_CHECK|runtime error|Running: ' "$OUT/logs/$h-regressions.log" | sed 's/^/    /' || true
		status=1
	fi
done

[[ $TIME -gt 0 ]] || exit "$status"

# ---------------------------------------------------------------------------
# Fuzzing: each harness on a scratch copy of its seed corpus, JOBS at once.

run_one() {
	local h=$1 corpus=$OUT/corpus/$1 log=$OUT/logs/$1.log
	rm -rf "$corpus"
	mkdir -p "$corpus"
	if [[ -d tests/fuzz/corpus/$h ]]; then
		cp -r "tests/fuzz/corpus/$h/." "$corpus/"
	fi
	mkdir -p "$OUT/crashes/$h"
	local dict=() max_len=4096
	[[ -f tests/fuzz/$h.dict ]] && dict=(-dict="tests/fuzz/$h.dict")
	# A configuration line may be 4096 bytes: let ctl go past that.
	[[ $h == ctl ]] && max_len=10000
	# A capture: a key log and a handful of full-size frames.
	[[ $h == decrypt ]] && max_len=32768
	"$OUT/fuzz_$h" "$corpus" "${dict[@]}" \
		-max_total_time="$TIME" -rss_limit_mb=2048 -timeout=30 -max_len="$max_len" \
		-print_final_stats=1 -artifact_prefix="$OUT/crashes/$h/" \
		>"$log" 2>&1
}

summary() {
	local h=$1 rc=$2 log=$OUT/logs/$1.log runs cov ft eps result
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	if [[ $rc -eq 0 ]]; then
		result=ok
	else
		local art
		art=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/^Test unit written to //')
		result="CRASH (exit $rc) ${art:-see build-fuzz/logs/$h.log}"
	fi
	printf '%-8s runs: %s  exec/s: %s  cov: %s  ft: %s  corpus: %s  %s\n' "$h" "${runs:-?}" \
		"${eps:-?}" "${cov:-?}" "${ft:-?}" "$(find "$OUT/corpus/$h" -type f | wc -l)" "$result"
}

rcfile=$OUT/logs/rc
rm -f "$rcfile".*
for h in "${harnesses[@]}"; do
	while [[ $(jobs -rp | wc -l) -ge $JOBS ]]; do
		wait -n || true
	done
	echo "fuzz.sh: fuzzing $h for ${TIME}s"
	( set +e; run_one "$h"; echo $? >"$rcfile.$h" ) &
done
wait || true

for h in "${harnesses[@]}"; do
	rc=$(cat "$rcfile.$h" 2>/dev/null || echo 99)
	summary "$h" "$rc"
	[[ $rc -eq 0 ]] || status=1
done
exit "$status"
