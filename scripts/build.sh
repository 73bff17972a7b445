#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# build.sh: install what is missing (as root) and build tcpcryptd out of
# tree.  Shared by demo.sh and check.sh so both start from the same state.
#
#   scripts/build.sh [--asan] [--builddir DIR]
#
# Prints the build directory on its last line.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=$top/build
asan=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--asan) asan=1; builddir=$top/build-asan; shift ;;
	--builddir) builddir=$(realpath -m "$2"); shift 2 ;;
	*) echo "build.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

if [[ $(id -u) -eq 0 ]]; then
	"$top/scripts/install-deps" >&2
else
	echo "build.sh: not root, so not installing dependencies" >&2
fi

cd "$top"
if [[ ! -x configure || configure.ac -nt configure || Makefile.am -nt Makefile.in ]]; then
	autoreconf -fi >&2
fi
mkdir -p "$builddir"
cd "$builddir"
cflags="-O2 -g"
if ((asan)); then
	cflags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
fi
# Reconfigure only when the flags changed, so repeated runs are incremental.
if [[ ! -f config.status ]] || ! grep -qF -- "$cflags" config.status; then
	"$top/configure" -q --enable-werror CFLAGS="$cflags" >&2
fi
make -j"$(nproc)" >&2
echo "$builddir"
