# shellcheck shell=bash
# Shared by the scripts in scripts/: the packages this project
# needs on Debian 12 and how it is built. Source it; it defines functions
# only.

# Build and make check (man renders the man page as lintian does).
RR_APT_PACKAGES_BUILD="dovecot-dev libcmocka-dev autoconf automake libtool
pkgconf make gcc man-db"
# What the integration tests run: the private Dovecot with its services,
# the SMTP sink (openssl makes its TLS certificate), swaks and curl, the
# third-party clients they drive, strace (bench/receipt_cpu.py --syscalls,
# which a README test runs). debian/tests/control lists each of them
# (scripts/test-package.sh checks that).
RR_APT_PACKAGES_TESTS="dovecot-core dovecot-imapd dovecot-pop3d
dovecot-lmtpd dovecot-submissiond dovecot-sieve dovecot-managesieved
python3 python3-aiosmtpd python3-pytest swaks curl openssl passwd strace"
RR_APT_PACKAGES="$RR_APT_PACKAGES_BUILD $RR_APT_PACKAGES_TESTS"
# For the integration pass under valgrind (skipped with VALGRIND=no).
RR_APT_PACKAGES_VALGRIND="valgrind"
# For the libFuzzer targets (scripts/fuzz.sh, make fuzz): clang and its
# fuzzer and sanitizer runtimes. The sanitizer pass over the unit tests
# (scripts/sanitizers.sh) needs only gcc.
# The runtimes' package is named after clang's version: 14 on Debian 12,
# 19 on Debian 13.
case "$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")" in
trixie) RR_CLANG_VERSION=19 ;;
*) RR_CLANG_VERSION=14 ;;
esac
RR_APT_PACKAGES_FUZZ="clang libclang-rt-$RR_CLANG_VERSION-dev"
# Building and checking the Debian package (scripts/test-package.sh); the
# build dependencies in debian/control are in RR_APT_PACKAGES already.
# autopkgtest runs debian/tests against the built .deb.
RR_APT_PACKAGES_PKG="build-essential debhelper dpkg-dev lintian autopkgtest"

RR_TOP_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)

rr_require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "$(basename "$0"): run as root (sudo $0)" >&2
		exit 1
	fi
}

# Prints the packages of "$@" that are not installed.
rr_missing_packages() {
	local pkg
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
				grep -q "install ok installed"; then
			echo "$pkg"
		fi
	done
}

# Installs the packages of "$@" that are missing.
rr_apt_install() {
	local missing
	missing=$(rr_missing_packages "$@")
	if [ -z "$missing" ]; then
		return 0
	fi
	# shellcheck disable=SC2086
	echo "Installing:" $missing
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
}

rr_install_deps() {
	local wanted
	wanted="$RR_APT_PACKAGES"
	if [ "${VALGRIND:-yes}" != no ]; then
		wanted="$wanted $RR_APT_PACKAGES_VALGRIND"
	fi
	# shellcheck disable=SC2086
	rr_apt_install $wanted
}

rr_install_fuzz_deps() {
	# shellcheck disable=SC2086
	rr_apt_install $RR_APT_PACKAGES_FUZZ
}

rr_install_pkg_deps() {
	# shellcheck disable=SC2086
	rr_apt_install $RR_APT_PACKAGES $RR_APT_PACKAGES_PKG
}

# ./autogen.sh, ./configure and make, each only when needed.
rr_build() {
	(
		set -e
		cd "$RR_TOP_SRCDIR"
		if [ ! -x configure ]; then
			./autogen.sh
		fi
		if [ ! -f Makefile ]; then
			./configure --with-dovecot=/usr/lib/dovecot
		fi
		make
	)
}

# Copies the tree's tracked and new files, as they are in the work tree,
# to "$1" (created); nothing that git ignores, so that an in-tree build
# (of another Dovecot version, say) does not leak into the copy. A tree
# that is not a git work tree (a copy made so, an unpacked source) is
# copied whole.
rr_clean_copy() {
	local dest="$1"
	mkdir -p "$dest"
	if ! command -v git >/dev/null ||
			! git -C "$RR_TOP_SRCDIR" rev-parse --is-inside-work-tree \
				>/dev/null 2>&1; then
		(cd "$RR_TOP_SRCDIR" && tar -cf - .) | tar -xf - -C "$dest"
		return
	fi
	(cd "$RR_TOP_SRCDIR" &&
		git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			if [ -e "$f" ]; then printf '%s\0' "$f"; fi
		done |
		tar --null -T - -cf -) | tar -xf - -C "$dest"
}
