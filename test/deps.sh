#!/bin/sh
# deps.sh - install what building and testing need on a Debian machine:
# the compiler, the cross compilers and qemu-user for `make cross`, clang's
# sanitizer runtime, and Node.js/npm for the regtest node (bcoin).  Needs
# root (or sudo).  The pool itself needs none of this but a C compiler.
set -e
pkgs="build-essential gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf
gcc-mips-linux-gnu libc6-dev-mips-cross qemu-user clang libclang-rt-14-dev valgrind
chromium"
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
missing=""
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
sh "$(dirname "$0")/node.sh" install
