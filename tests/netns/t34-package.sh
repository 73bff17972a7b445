#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t34: the Debian packages, from build to purge.
#
#   (a) scripts/package builds tcpcryptd, libtcpcrypt0 and libtcpcrypt-dev
#       (dpkg-buildpackage in one tree under build/deb/, without the unit
#       tests, which the suite runs anyway; lintian must report no error).
#   (b) "apt-get install ./build/*.deb": the user and group tcpcrypt exist
#       (sysusers.d), /etc/tcpcryptd.conf is a conffile, the unit is in
#       place but not enabled (README.Debian), nothing is started.
#   (c) The installed programs in the two-host topology: in A, the
#       installed launcher with nothing but its defaults (the packaged
#       firewall script, /usr/sbin/tcpcryptd as user tcpcrypt, the packaged
#       /etc/tcpcryptd.conf, the control socket in /run/tcpcrypt); in B,
#       /usr/sbin/tcpcryptd as lib.sh starts a daemon, with the packaged
#       firewall script.  A transfer is encrypted on the wire, with the same
#       session ID on both hosts; the installed tcnetstat shows it in A;
#       the installed tcpcrypt-sessid (libtcpcrypt0) and the example from
#       libtcpcrypt-dev, compiled against the installed header and
#       pkg-config file, print the session ID the daemons logged.
#   (d) The launcher stopped leaves the guard in A; queue rules are put up
#       again without a daemon, as a daemon killed outright would leave
#       them.  "apt-get remove", then "apt-get purge" run in namespace A, so
#       that the maintainer scripts act on A's packet filter.  After the
#       remove, the queue rules are gone and the guard, /etc/tcpcryptd.conf
#       and /run/tcpcrypt are there; after the purge, no file of the dpkg -L
#       lists taken before is left, no iptables/ip6tables/nft rule or table
#       of ours (names TCPCRYPT_*/tcpcrypt*, the marks 0x10000000,
#       0x20000000, 0x40000000) in A, no /run/tcpcrypt, no unit state; the
#       root namespace's packet filter was never touched.
#
# The machine is left as it was: the packages are purged on any exit, the
# user and group tcpcrypt are deleted if this test created them (the
# package keeps them, as Debian does), and packages that apt pulled in are
# purged again.  It skips when dpkg-buildpackage or apt-get cannot run, or
# when one of the packages is already installed (purging it would change
# the machine).  About 45 s, most of it the package build.
. "$(dirname "$0")/lib.sh"

PKGS=(tcpcryptd libtcpcrypt0 libtcpcrypt-dev)
for t in dpkg-buildpackage dpkg-parsechangelog; do
	command -v "$t" >/dev/null 2>&1 ||
		skip "$t is not installed: the Debian packages cannot be built here (dpkg-dev; scripts/install-deps installs it)"
done
[[ -z ${TC_ASAN:-} ]] || skip "the packages hold the plain build, not the sanitized one under test: covered by the plain run"
command -v apt-get >/dev/null 2>&1 || skip "apt-get is missing: not a Debian system, the packages cannot be installed"
[[ -f $TC_SRCDIR/debian/control ]] || skip "no debian/ in $TC_SRCDIR (a tree made by 'make dist' without it?)"
tc_require_tools cc pkg-config dpkg-query iptables-save ip6tables-save getent
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ -z $st || $st == un* || $st == pn* ]] ||
		skip "package $p is already on this machine (dpkg state '${st% }'); this test installs and purges it"
done
[[ ! -e /run/tcpcrypt ]] || skip "/run/tcpcrypt exists: a tcpcryptd runs on this host, and the purge would remove its state"

W=$TC_WORK
APT=(apt-get -q -o DPkg::Lock::Timeout=300)
export DEBIAN_FRONTEND=noninteractive
had_user=0
had_group=0
if getent passwd tcpcrypt >/dev/null; then had_user=1; fi
if getent group tcpcrypt >/dev/null; then had_group=1; fi
installed=0
EXTRA=()

# Our packet-filter footprint in the namespace we are in (names and marks).
fw_footprint() {
	{
		iptables-save 2>/dev/null
		ip6tables-save 2>/dev/null
		if command -v nft >/dev/null 2>&1; then nft list ruleset 2>/dev/null; fi
	} | grep -iE 'tcpcrypt|0x[124]0000000' || true
}
ROOT_FW_BEFORE=$(fw_footprint)

# pkgs_known PKG...: those that dpkg still has (installed, or removed with
# their configuration files left).
pkgs_known() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		[[ -z $st || $st == un* || $st == pn* ]] || echo "$p"
	done
}

# On any exit, before lib.sh removes the namespaces: purge what we
# installed (in A while it exists, so that A's rules are what goes), and
# the user and group if we made them.
t34_cleanup() {
	local rc=$? p
	set +e
	if ((installed)); then
		local left
		mapfile -t left < <(pkgs_known "${PKGS[@]}" "${EXTRA[@]}")
		if ((${#left[@]})); then
			# dpkg, not apt: apt no longer knows a removed local package.
			echo "t34: purging ${left[*]}" >&2
			if ip netns pids "$NS_A" >/dev/null 2>&1; then
				ip netns exec "$NS_A" dpkg --purge "${left[@]}" >>"$W/cleanup.log" 2>&1
			else
				dpkg --purge "${left[@]}" >>"$W/cleanup.log" 2>&1
			fi
		fi
	fi
	if ((!had_user)) && getent passwd tcpcrypt >/dev/null; then userdel tcpcrypt; fi
	if ((!had_group)) && getent group tcpcrypt >/dev/null; then groupdel tcpcrypt; fi
	(exit "$rc")
	tc_cleanup
}
trap t34_cleanup EXIT

# ---------------------------------------------------------------------------
# (a) Build.

OUT=$TC_SRCDIR/build
t_build=$(date +%s)
"$TC_SRCDIR/scripts/package" --nocheck --outdir "$OUT" >"$W/package.out" 2>"$W/package.err" ||
	fail "scripts/package failed: $(tail -n 30 "$W/package.err")"
mapfile -t DEBS < <(grep '\.deb$' "$W/package.out")
((${#DEBS[@]} == 3)) || fail "scripts/package made ${#DEBS[@]} packages, want 3: ${DEBS[*]}"
for p in "${PKGS[@]}"; do
	printf '%s\n' "${DEBS[@]}" | grep -q "/${p}_[^/]*\.deb$" || fail "no package $p among ${DEBS[*]}"
done
grep -q 'lintian: no errors' "$W/package.err" || fail "lintian did not run or reported errors: $(tail -n 20 "$W/package.err")"
log "(a) built ${DEBS[*]##*/} in $(($(date +%s) - t_build)) s; lintian: no errors"

# ---------------------------------------------------------------------------
# (b) Install.

# What apt would install besides ours: purged again at the end.
"${APT[@]}" install -s --no-install-recommends "${DEBS[@]}" >"$W/apt-sim.log" 2>&1 ||
	fail "apt-get install -s failed: $(tail -n 20 "$W/apt-sim.log")"
while read -r p; do
	[[ " ${PKGS[*]} " == *" $p "* ]] || EXTRA+=("$p")
done < <(awk '$1 == "Inst" { print $2 }' "$W/apt-sim.log")
installed=1
"${APT[@]}" install -y --no-install-recommends "${DEBS[@]}" >"$W/apt-install.log" 2>&1 ||
	fail "apt-get install ${DEBS[*]} failed: $(tail -n 20 "$W/apt-install.log")"
for p in "${PKGS[@]}"; do
	[[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p") == ii* ]] || fail "$p is not installed after apt-get install"
	dpkg -L "$p" >"$W/files-$p.txt" || fail "dpkg -L $p failed"
done
log "(b) installed ${PKGS[*]}${EXTRA[*]:+ (and, pulled in: ${EXTRA[*]})}"

getent passwd tcpcrypt >/dev/null || fail "the postinst did not create the user tcpcrypt"
getent group tcpcrypt >/dev/null || fail "the postinst did not create the group tcpcrypt"
dpkg-query -W -f='${Conffiles}\n' tcpcryptd | grep -q '^ /etc/tcpcryptd.conf ' ||
	fail "/etc/tcpcryptd.conf is not a conffile of tcpcryptd: $(dpkg-query -W -f='${Conffiles}' tcpcryptd)"
unit=$(grep -E '/systemd/system/tcpcryptd\.service$' "$W/files-tcpcryptd.txt") || fail "tcpcryptd ships no systemd unit"
grep -qx "ExecStart=/usr/sbin/tcpcryptd --foreground \$TCPCRYPTD_ARGS" "$unit" ||
	fail "the installed unit does not start /usr/sbin/tcpcryptd: $(grep '^ExecStart=' "$unit")"
for f in /usr/sbin/tcpcryptd /usr/sbin/tcpcrypt-firewall /usr/sbin/tcpcryptd-launch /usr/bin/tcnetstat \
	/usr/bin/tcpcrypt-sessid /usr/bin/tcpcrypt-decrypt /usr/lib/sysusers.d/tcpcrypt.conf \
	/usr/include/tcpcrypt.h /usr/share/bash-completion/completions/tcnetstat \
	/usr/share/zsh/vendor-completions/_tcpcryptd; do
	[[ -e $f ]] || fail "$f is not installed"
done
# The dissector where Debian's Wireshark looks for Lua plugins.
grep -qE '^/usr/lib/[^/]+/wireshark/plugins/tcpcrypt\.lua$' "$W/files-tcpcryptd.txt" ||
	fail "tcpcryptd ships no Wireshark dissector in /usr/lib/<triplet>/wireshark/plugins"
/usr/bin/tcpcrypt-decrypt --help >/dev/null 2>&1 || [[ $? -eq 2 ]] || fail "the installed tcpcrypt-decrypt does not run"
[[ ! -e /etc/systemd/system/multi-user.target.wants/tcpcryptd.service ]] ||
	fail "the package enabled tcpcryptd.service (it must be an opt-in)"
[[ ! -e /run/tcpcrypt ]] || fail "installing the package made /run/tcpcrypt (something started the daemon)"
[[ $(fw_footprint) == "$ROOT_FW_BEFORE" ]] || fail "installing changed the root namespace's packet filter:
$(fw_footprint)"
log "(b) user and group tcpcrypt exist, /etc/tcpcryptd.conf is a conffile, $unit installed and not enabled, nothing started"

# ---------------------------------------------------------------------------
# (c) The installed programs at work.

TCPCRYPTD=/usr/sbin/tcpcryptd
TC_FIREWALL=/usr/sbin/tcpcrypt-firewall
topo_setup

# A: the launcher with its defaults (-v for the "encrypted ... sid=" lines).
A_LOG="$W/launch-a.log"
TC_DLOG[$NS_A]=$A_LOG
TC_DAEMON_LOGS+=("$A_LOG")
ip netns exec "$NS_A" /usr/sbin/tcpcryptd-launch -- -v >"$A_LOG" 2>&1 &
A_PID=$!
tc_track "$A_PID"
wait_for -m "the launched daemon in A to be ready" grep -q "ready queue=666" "$A_LOG"
wait_for -m "the control socket /run/tcpcrypt/tcpcryptd.sock" test -S /run/tcpcrypt/tcpcryptd.sock
dpid=$(pgrep -P "$A_PID" -x tcpcryptd) || fail "no tcpcryptd child of the launcher: $(tail -n 5 "$A_LOG")"
[[ $(readlink "/proc/$dpid/exe") == /usr/sbin/tcpcryptd ]] || fail "A runs $(readlink "/proc/$dpid/exe"), not /usr/sbin/tcpcryptd"
[[ $(stat -c %U "/proc/$dpid") == tcpcrypt ]] || fail "A's daemon runs as $(stat -c %U "/proc/$dpid"), want tcpcrypt"
log "(c) A: /usr/sbin/tcpcryptd-launch runs /usr/sbin/tcpcryptd as user tcpcrypt (pid $dpid)"

SOCK_B="$W/b.sock"
tc_start "$NS_B" --socket "$SOCK_B"

marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$W/push.bin" $((256 * 1024)) "$marker"
cap_start pkg
socat_push 7341 "$W/push.bin"
cap_stop pkg
wirecheck syn-has-eno "$(cap_file pkg)"
wirecheck data-has-mac "$(cap_file pkg)"
wirecheck absent "$(cap_file pkg)" "$marker"
expect_same_sid 7341
sid=$(tc_sid "$NS_A" 7341 A)

out=$(ns_exec "$NS_A" /usr/bin/tcnetstat -w 2>&1) || fail "the installed tcnetstat -w in A failed: $out"
grep -qF "$sid" <<<"$out" || fail "the installed tcnetstat in A does not show sid $sid:
$out"
log "(c) /usr/bin/tcnetstat in A (default socket) shows the connection's sid"

# The example from libtcpcrypt-dev, built against the installed files only.
ex=$(grep -E '/examples/tcpcrypt-sessid\.c$' "$W/files-libtcpcrypt-dev.txt") || fail "libtcpcrypt-dev ships no example"
# shellcheck disable=SC2046  # pkg-config's flags are words
cc -o "$W/sessid-ex" "$ex" $(pkg-config --cflags --libs libtcpcrypt) 2>"$W/cc.err" ||
	fail "the example does not build with pkg-config libtcpcrypt: $(cat "$W/cc.err")"
ldd "$W/sessid-ex" | grep -q '/libtcpcrypt\.so\.0 ' || fail "the example is not linked to the installed libtcpcrypt.so.0: $(ldd "$W/sessid-ex")"

ip netns exec "$NS_B" env TCPCRYPT_SOCKET="$SOCK_B" timeout 30 "$W/sessid-ex" --wait 5 listen 198.51.100.1 7342 \
	>"$W/sessid-b.out" 2>"$W/sessid-b.err" &
spid=$!
tc_track "$spid"
wait_listen "$NS_B" 7342
ns_exec "$NS_A" timeout 30 /usr/bin/tcpcrypt-sessid --wait 5 connect 198.51.100.1 7342 \
	>"$W/sessid-a.out" 2>"$W/sessid-a.err" || fail "/usr/bin/tcpcrypt-sessid in A failed: $(cat "$W/sessid-a.err")"
wait_pid "$spid" 30 "the example listening in B"
((TC_WAIT_RC == 0)) || fail "the example in B exited $TC_WAIT_RC: $(cat "$W/sessid-b.err")"
da=$(tc_sid "$NS_A" 7342 A) || exit 1
db=$(tc_sid "$NS_B" 7342 B) || exit 1
[[ $(cat "$W/sessid-a.out") == "sid=$da role=A" ]] || fail "A's tcpcrypt-sessid printed '$(cat "$W/sessid-a.out")', A's daemon logged $da"
[[ $(cat "$W/sessid-b.out") == "sid=$db role=B" ]] || fail "B's example printed '$(cat "$W/sessid-b.out")', B's daemon logged $db"
[[ $da == "$db" ]] || fail "the daemons logged different sids for port 7342: $da / $db"
log "(c) /usr/bin/tcpcrypt-sessid in A and the example built from libtcpcrypt-dev in B: sid=${da:0:16}..."

# ---------------------------------------------------------------------------
# (d) Stop, then purge in A.

kill -TERM "$A_PID"
wait_pid "$A_PID" 10 "the launcher in A after SIGTERM"
((TC_WAIT_RC == 0)) || fail "the launcher in A exited $TC_WAIT_RC after SIGTERM: $(tail -n 5 "$A_LOG")"
tc_stop "$NS_B"
rc=0
ns_exec "$NS_A" "$TC_FIREWALL" status >"$W/status-a.out" 2>&1 || rc=$?
((rc == 3)) || fail "after the launcher, A's 'tcpcrypt-firewall status' exits $rc (want 3): $(cat "$W/status-a.out")"
grep -qi guard <<<"$(ns_exec "$NS_A" "$TC_FIREWALL" status 2>&1)" || fail "the launcher's 'down' left no guard in A"
# Queue rules with no daemon behind them: the prerm must take them down.
ns_exec "$NS_A" "$TC_FIREWALL" up >>"$W/status-a.out" 2>&1 || fail "tcpcrypt-firewall up in A failed"
ns_exec "$NS_A" "$TC_FIREWALL" status >/dev/null 2>&1 || fail "queue rules in A not installed"
[[ -d /run/tcpcrypt ]] || fail "/run/tcpcrypt is gone already (the launcher made it)"
log "(d) A: queue rules, guard and /run/tcpcrypt in place before the purge"

# Remove first: the prerm takes the queue rules down; the guard, the
# configuration file and /run/tcpcrypt stay (README.Debian).
ip netns exec "$NS_A" "${APT[@]}" remove -y "${PKGS[@]}" >"$W/apt-remove.log" 2>&1 ||
	fail "apt-get remove failed: $(tail -n 20 "$W/apt-remove.log")"
fpa=$(ns_exec "$NS_A" bash -c "$(declare -f fw_footprint); fw_footprint")
! grep -qE 'TCPCRYPT_(OUT|IN)( |$)|table inet tcpcrypt \{' <<<"$fpa" ||
	fail "queue rules left in A after apt-get remove:
$fpa"
grep -qE 'TCPCRYPT_GUARD|table inet tcpcrypt_guard' <<<"$fpa" || fail "apt-get remove took the guard in A down (it stays until purge)"
[[ -f /etc/tcpcryptd.conf && -d /run/tcpcrypt ]] || fail "apt-get remove removed /etc/tcpcryptd.conf or /run/tcpcrypt"
[[ ! -e /usr/sbin/tcpcryptd ]] || fail "/usr/sbin/tcpcryptd is still there after apt-get remove"
log "(d) removed: queue rules down in A, guard, configuration and /run/tcpcrypt kept"

# What is left of them after the remove (tcpcryptd, with its conffile).
mapfile -t left < <(pkgs_known "${PKGS[@]}" "${EXTRA[@]}")
[[ " ${left[*]} " == *" tcpcryptd "* ]] || fail "tcpcryptd's configuration did not survive apt-get remove"
ip netns exec "$NS_A" "${APT[@]}" purge -y "${left[@]}" >"$W/apt-purge.log" 2>&1 ||
	fail "apt-get purge failed: $(tail -n 20 "$W/apt-purge.log")"
known=$(pkgs_known "${PKGS[@]}" "${EXTRA[@]}")
[[ -z $known ]] || fail "still known to dpkg after the purge: $known"
left=()
for p in "${PKGS[@]}"; do
	while IFS= read -r f; do
		[[ -n $f && $f != /. ]] || continue
		if [[ -d $f ]]; then
			# Shared directories (/usr/bin ...) stay; ours must go.
			[[ $f != *tcpcrypt* ]] || left+=("$f")
		elif [[ -e $f || -L $f ]]; then
			left+=("$f")
		fi
	done <"$W/files-$p.txt"
done
((${#left[@]} == 0)) || fail "left after the purge: ${left[*]}"
[[ ! -e /etc/tcpcryptd.conf ]] || fail "/etc/tcpcryptd.conf survived the purge"
[[ ! -e /run/tcpcrypt ]] || fail "/run/tcpcrypt survived the purge: $(ls -la /run/tcpcrypt)"
dsh=$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
	-name '*tcpcryptd*' 2>/dev/null || true)
[[ -z $dsh ]] || fail "unit state of tcpcryptd left: $dsh"
fpa=$(ns_exec "$NS_A" bash -c "$(declare -f fw_footprint); fw_footprint")
[[ -z $fpa ]] || fail "rules of ours left in A after the purge:
$fpa"
[[ $(fw_footprint) == "$ROOT_FW_BEFORE" ]] || fail "the root namespace's packet filter changed:
$(fw_footprint)"
installed=0
log "(d) purged: no file of ours, no rule, table or mark of ours in A, no /run/tcpcrypt; root namespace untouched"
log "PASS"
