# shellcheck shell=bash
# Shared by scripts/demo.sh and scripts/test.sh: the packages this project
# needs on Debian 12 and how it is built. Source it; it defines functions
# only.

# Build, unit tests, and the integration tests' private Dovecot + SMTP sink
# (swaks and curl are the third-party clients the tests drive).
RR_APT_PACKAGES="dovecot-dev dovecot-core dovecot-imapd dovecot-pop3d
dovecot-lmtpd dovecot-submissiond dovecot-sieve libcmocka-dev autoconf
automake libtool pkg-config python3-aiosmtpd python3-pytest make gcc
swaks curl"
# For the integration pass under valgrind (skipped with VALGRIND=no).
RR_APT_PACKAGES_VALGRIND="valgrind"

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

rr_install_deps() {
	local wanted missing
	wanted="$RR_APT_PACKAGES"
	if [ "${VALGRIND:-yes}" != no ]; then
		wanted="$wanted $RR_APT_PACKAGES_VALGRIND"
	fi
	# shellcheck disable=SC2086
	missing=$(rr_missing_packages $wanted)
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
