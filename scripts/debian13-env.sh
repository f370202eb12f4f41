#!/bin/bash
# shellcheck shell=bash
# A Debian 13 (trixie) chroot with Dovecot 2.4 and everything this project
# needs to build, test and package against it, on a Debian 12 machine.
# Run it as root, or source it for the functions rr_debian13_create, _run,
# _update and _destroy (sourcing only defines functions and variables):
#   scripts/debian13-env.sh create      make the chroot, or bring it up to
#                                       date with the package list
#   scripts/debian13-env.sh run CMD...  run CMD in it, in the project tree
#   scripts/debian13-env.sh update      apt-get dist-upgrade inside it
#   scripts/debian13-env.sh destroy     remove it
# Environment:
#   RR_DEBIAN13_DIR      where the chroot lives
#                        (default /var/cache/dovecot-readreceipt/trixie)
#   RR_DEBIAN13_MIRROR   Debian mirror (default: the one the host's apt uses)
#   RR_DEBIAN13_SECURITY_MIRROR  the same for trixie-security
#   RR_DEBIAN13_SRC      tree that `run` mounts at the same path inside and
#                        runs CMD in (default: this project tree)
#   RR_DEBIAN13_PASSENV  variables `run` passes to CMD when they are set
#                        (default: TERM VALGRIND VALGRIND_TESTS PYTEST_ARGS)
#
# `run` works in private mount and PID namespaces (unshare): the mounts it
# makes for the chroot (/proc, /sys, /dev, /dev/pts, a new /dev/shm and
# /tmp, the source tree) are never visible on the host and vanish with the
# namespace, and every process started inside ends with it. It still
# unmounts in reverse order, kills what CMD left running, and checks
# /proc/mounts, so that a leak is reported instead of hidden.

# shellcheck source=SCRIPTDIR/deps.sh
. "$(dirname "${BASH_SOURCE[0]}")/deps.sh"

RR_DEBIAN13_SUITE=trixie
RR_DEBIAN13_SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
# What `create` installs: the Debian 12 lists of deps.sh, so both stay the
# same; python3 is named for tests that run before any other package.
RR_DEBIAN13_PACKAGES="python3 $RR_APT_PACKAGES $RR_APT_PACKAGES_VALGRIND
$RR_APT_PACKAGES_PKG"
# Marks a complete chroot; holds the package list and the apt sources it
# was made with.
RR_DEBIAN13_STAMP=.dovecot-readreceipt-env
RR_DEBIAN13_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

rr_debian13_dir() {
	echo "${RR_DEBIAN13_DIR:-/var/cache/dovecot-readreceipt/trixie}"
}

rr_debian13__die() {
	echo "debian13-env: $*" >&2
	exit 1
}

# The URI of the first enabled "deb" source of the host for suite "$1",
# from sources.list and sources.list.d (one-line and deb822 formats).
rr_debian13__host_uri() {
	local suite="$1" f
	{
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			awk -v s="$suite" '
				$1 == "deb" {
					i = 2
					if ($i ~ /^\[/) {
						while (i <= NF && $i !~ /\]$/)
							i++
						i++
					}
					if ($(i + 1) == s)
						print $i
				}' "$f"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk -v s="$suite" '
				function flush() {
					if (index(" " types " ", " deb ") &&
					    index(" " suites " ", " " s " ") &&
					    enabled != "no" && uris != "") {
						split(uris, u, " ")
						print u[1]
					}
					types = suites = uris = enabled = ""
				}
				/^[ \t]*#/ { next }
				/^[ \t]*$/ { flush(); next }
				/^[A-Za-z-]+:/ {
					k = tolower(substr($0, 1, index($0, ":") - 1))
					v = substr($0, index($0, ":") + 1)
					gsub(/^[ \t]+|[ \t]+$/, "", v)
					gsub(/[ \t]+/, " ", v)
					if (k == "types") types = v
					else if (k == "suites") suites = v
					else if (k == "uris") uris = v
					else if (k == "enabled") enabled = tolower(v)
				}
				END { flush() }' "$f"
		done
	} | head -n 1
}

# The deb822 apt sources of the chroot: the host's Debian mirror for trixie
# and trixie-updates, its security mirror for trixie-security.
rr_debian13__sources() {
	local codename mirror security
	codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null | tr -d '"')
	mirror=${RR_DEBIAN13_MIRROR:-}
	security=${RR_DEBIAN13_SECURITY_MIRROR:-}
	if [ -z "$mirror" ] && [ -n "$codename" ]; then
		mirror=$(rr_debian13__host_uri "$codename")
	fi
	if [ -z "$security" ] && [ -n "$codename" ]; then
		security=$(rr_debian13__host_uri "$codename-security")
	fi
	if [ -z "$mirror" ]; then
		echo "debian13-env: no Debian mirror found in the host's apt sources; set RR_DEBIAN13_MIRROR" >&2
		return 1
	fi
	cat <<EOF
Types: deb
URIs: $mirror
Suites: $RR_DEBIAN13_SUITE $RR_DEBIAN13_SUITE-updates
Components: main
EOF
	if [ -n "$security" ]; then
		cat <<EOF

Types: deb
URIs: $security
Suites: $RR_DEBIAN13_SUITE-security
Components: main
EOF
	fi
}

rr_debian13__packages() {
	echo "$RR_DEBIAN13_PACKAGES" | tr -s '[:space:]' '\n' | sed '/^$/d' | sort -u
}

# What the stamp of an up-to-date chroot holds.
rr_debian13__stamp_text() {
	local sources
	sources=$(rr_debian13__sources) || return 1
	echo "# packages"
	rr_debian13__packages
	echo "# apt sources"
	echo "$sources"
}

# Mount points equal to or below "$1" in /proc/self/mounts.
rr_debian13__mounts_under() {
	local root="$1" dev target rest
	while read -r dev target rest; do
		# /proc/mounts writes a space as \040, a tab as \011
		target=$(printf '%b' "$target")
		case "$target" in
		"$root" | "$root"/*) echo "$target" ;;
		esac
	done </proc/self/mounts
	: "$dev" "$rest"
}

# PIDs of the processes whose root directory is "$1" or below it (a
# chrooted Dovecot's login processes chroot further).
rr_debian13__procs_under() {
	local root="$1" p r
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		case "$r" in
		"$root" | "$root"/*) echo "${p#/proc/}" ;;
		esac
	done
}

# Those of the PIDs "$@" that still run (not gone, not zombies).
rr_debian13__alive() {
	local p
	for p in "$@"; do
		if [ -n "$(tr -d '\0' 2>/dev/null <"/proc/$p/cmdline")" ]; then
			echo "$p"
		fi
	done
}

rr_debian13__describe_procs() {
	local p
	for p in "$@"; do
		printf '  pid %s: %s\n' "$p" \
			"$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")" >&2
	done
}

# Fails when anything is mounted, or any process runs, in "$1".
rr_debian13__check_unused() {
	local root="$1" mounts procs
	mounts=$(rr_debian13__mounts_under "$root")
	# shellcheck disable=SC2046
	procs=$(rr_debian13__alive $(rr_debian13__procs_under "$root"))
	if [ -n "$mounts" ]; then
		echo "debian13-env: still mounted under $root:" >&2
		printf '  %s\n' "$mounts" >&2
	fi
	if [ -n "$procs" ]; then
		echo "debian13-env: processes running in $root:" >&2
		# shellcheck disable=SC2086
		rr_debian13__describe_procs $procs
	fi
	[ -z "$mounts" ] && [ -z "$procs" ]
}

# Removes a chroot directory that nothing uses.
rr_debian13__remove_tree() {
	local d="$1"
	[ -e "$d" ] || return 0
	if ! rr_debian13__check_unused "$d"; then
		echo "debian13-env: not removing $d" >&2
		return 1
	fi
	rm -rf --one-file-system -- "$d"
}

# Runs "$@" with a lock on the chroot: "$1" is -s (shared, for run) or -x
# (exclusive, for whatever changes it). The lock is not passed on to the
# namespaces.
rr_debian13__locked() {
	local mode="$1" dir lockfd
	shift
	dir=$(rr_debian13_dir)
	mkdir -p "$(dirname "$dir")" || return 1
	exec {lockfd}>"$dir.lock" || return 1
	if ! flock -n "$mode" "$lockfd"; then
		echo "debian13-env: waiting for another user of $dir" >&2
		flock "$mode" "$lockfd" || return 1
	fi
	RR_DEBIAN13_LOCKFD=$lockfd "$@"
}

# Runs "$@" in new mount and PID namespaces, in the chroot "$1" (or, when
# "$1" is -, on the host's root), with "$2" (if not empty) mounted at the
# same path inside. Returns its exit status. INT or TERM stop it: the
# namespace's first process kills everything inside, unmounts, and exits;
# if that takes more than 20 s, it is killed and the kernel does the rest.
rr_debian13__enter() {
	local pid rc child i lockfd=${RR_DEBIAN13_LOCKFD:-}
	local -a children
	if [ -n "$lockfd" ]; then
		env --default-signal=INT,QUIT \
			setpriv --pdeathsig KILL \
			unshare --mount --propagation private --pid --fork \
			--mount-proc --kill-child=KILL -- \
			bash "$RR_DEBIAN13_SCRIPT" __inside "$@" <&0 {lockfd}>&- &
	else
		env --default-signal=INT,QUIT \
			setpriv --pdeathsig KILL \
			unshare --mount --propagation private --pid --fork \
			--mount-proc --kill-child=KILL -- \
			bash "$RR_DEBIAN13_SCRIPT" __inside "$@" <&0 &
	fi
	pid=$!
	RR_DEBIAN13_STOP=
	trap 'RR_DEBIAN13_STOP=130' INT
	trap 'RR_DEBIAN13_STOP=143' TERM
	while :; do
		wait "$pid"
		rc=$?
		if [ -n "$RR_DEBIAN13_STOP" ]; then
			rc=$RR_DEBIAN13_STOP
			trap '' INT TERM
			# The first process in the namespace cleans up on TERM.
			{ read -ra children <"/proc/$pid/task/$pid/children"; } 2>/dev/null
			for child in "${children[@]}"; do
				kill -TERM "$child" 2>/dev/null
			done
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.2
			done
			kill -KILL "$pid" 2>/dev/null
			wait "$pid"
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
	done
	trap - INT TERM
	return "$rc"
}

# --- inside the namespaces (the script runs itself as their first process)

RR_DEBIAN13_MOUNTS=()
RR_DEBIAN13_MKDIRS=()

rr_debian13__mount() {
	local target="${*: -1}"
	mount "$@" || return 1
	RR_DEBIAN13_MOUNTS+=("$target")
}

rr_debian13__mount_all() {
	local root="$1" src="$2" d
	rr_debian13__mount -t proc -o nosuid,nodev,noexec proc "$root/proc" &&
		rr_debian13__mount --bind /sys "$root/sys" &&
		mount -o remount,bind,ro "$root/sys" &&
		rr_debian13__mount --bind /dev "$root/dev" &&
		rr_debian13__mount --bind /dev/pts "$root/dev/pts" &&
		rr_debian13__mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$root/dev/shm" &&
		rr_debian13__mount -t tmpfs -o nosuid,nodev,mode=1777 tmp "$root/tmp" ||
		return 1
	if [ -n "$src" ]; then
		if [ -e "$root$src" ] && [ -n "$(ls -A "$root$src" 2>/dev/null)" ]; then
			echo "debian13-env: $src exists and is not empty in the chroot; not mounting over it" >&2
			return 1
		fi
		# Remember which directories are new, to remove them afterwards.
		d=$src
		while [ "$d" != / ] && [ ! -e "$root$d" ]; do
			RR_DEBIAN13_MKDIRS+=("$root$d")
			d=$(dirname "$d")
		done
		mkdir -p "$root$src" &&
			rr_debian13__mount --bind "$src" "$root$src" ||
			return 1
	fi
	# Name resolution as on the host, also for the host's own name.
	for d in /etc/resolv.conf /etc/hosts; do
		if [ -e "$d" ]; then
			rm -f "$root$d"
			cp -L "$d" "$root$d"
		fi
	done
}

# Unmounts in reverse order, lazily if needed, and checks /proc/mounts.
rr_debian13__umount_all() {
	local root="$1" i t left d
	for ((i = ${#RR_DEBIAN13_MOUNTS[@]} - 1; i >= 0; i--)); do
		t=${RR_DEBIAN13_MOUNTS[i]}
		if ! umount "$t" 2>/dev/null; then
			echo "debian13-env: $t is busy; detaching it" >&2
			umount -l "$t"
		fi
	done
	RR_DEBIAN13_MOUNTS=()
	left=$(rr_debian13__mounts_under "$root")
	if [ -n "$left" ]; then
		echo "debian13-env: ERROR: still mounted under $root:" >&2
		printf '  %s\n' "$left" >&2
		return 1
	fi
	for d in "${RR_DEBIAN13_MKDIRS[@]}"; do
		rmdir "$d" 2>/dev/null
	done
	return 0
}

# Kills the processes "$@" by PID: TERM, then KILL after 10 s.
rr_debian13__kill_pids() {
	local p i alive
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
	done
	for ((i = 0; i < 50; i++)); do
		alive=$(rr_debian13__alive "$@" | tr '\n' ' ')
		[ -n "$alive" ] || return 0
		sleep 0.2
	done
	echo "debian13-env: killing with KILL: $alive" >&2
	# shellcheck disable=SC2086
	kill -KILL $alive 2>/dev/null
	return 0
}

# Processes left in the chroot (or, for -, in the namespace): report, kill.
rr_debian13__stop_left() {
	local root="$1" why="$2" procs p where="in the chroot"
	if [ "$root" = - ]; then
		where="in the namespace"
		procs=
		for p in /proc/[0-9]*; do
			p=${p#/proc/}
			[ "$p" = 1 ] || [ "$p" = "$BASHPID" ] || procs="$procs $p"
		done
	else
		procs=$(rr_debian13__procs_under "$root")
	fi
	# shellcheck disable=SC2086
	procs=$(rr_debian13__alive $procs)
	[ -n "$procs" ] || return 0
	echo "debian13-env: $why; still running $where:" >&2
	# shellcheck disable=SC2086
	rr_debian13__describe_procs $procs
	# shellcheck disable=SC2086
	rr_debian13__kill_pids $procs
}

rr_debian13__inside_stop() {
	local root="$1" rc="$2"
	trap '' INT TERM
	echo "debian13-env: interrupted" >&2
	rr_debian13__stop_left "$root" "interrupted"
	if [ "$root" != - ]; then
		rr_debian13__umount_all "$root"
	fi
	exit "$rc"
}

rr_debian13__inside() {
	local root="$1" src="$2" pid rc v
	local -a envs
	shift 2
	[ "$$" = 1 ] || rr_debian13__die "__inside is the first process of a PID namespace"
	# shellcheck disable=SC2064
	trap "rr_debian13__inside_stop '$root' 130" INT
	# shellcheck disable=SC2064
	trap "rr_debian13__inside_stop '$root' 143" TERM
	if [ "$root" != - ]; then
		if ! rr_debian13__mount_all "$root" "$src"; then
			rr_debian13__umount_all "$root"
			exit 1
		fi
		envs=(PATH="$RR_DEBIAN13_PATH" HOME=/root LANG=C.UTF-8
			DEBIAN_FRONTEND=noninteractive)
		for v in ${RR_DEBIAN13_PASSENV-TERM VALGRIND VALGRIND_TESTS PYTEST_ARGS}; do
			if [ -n "${!v+set}" ]; then
				envs+=("$v=${!v}")
			fi
		done
		set -- chroot "$root" /usr/bin/env -i -C "${src:-/}" "${envs[@]}" "$@"
	fi
	env --default-signal=INT,QUIT "$@" <&0 &
	pid=$!
	while :; do
		wait "$pid"
		rc=$?
		kill -0 "$pid" 2>/dev/null || break
	done
	rr_debian13__stop_left "$root" "the command has ended (exit status $rc)"
	if [ "$root" != - ]; then
		rr_debian13__umount_all "$root" || rc=1
	fi
	exit "$rc"
}

# --- commands

# apt-get "$@" in the chroot "$1", with the project's package list.
rr_debian13__apt() {
	local root="$1"
	shift
	rr_debian13__enter "$root" "" sh -c '
		apt-get update -q &&
		apt-get "$@" &&
		apt-get clean' sh "$@"
}

rr_debian13__install_packages() {
	# shellcheck disable=SC2046
	rr_debian13__apt "$1" install -y -q --no-install-recommends \
		$(rr_debian13__packages)
}

# The packages of the list that are not installed in the chroot "$1".
rr_debian13__missing() {
	local pkg
	for pkg in $(rr_debian13__packages); do
		# shellcheck disable=SC2016
		if ! chroot "$1" dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
				grep -q "install ok installed"; then
			echo "$pkg"
		fi
	done
}

# Files that make a fresh debootstrap the project's environment.
rr_debian13__configure() {
	local root="$1" sources="$2"
	cat >"$root/usr/sbin/policy-rc.d" <<'EOF' || return 1
#!/bin/sh
# Build and test environment: packages never start services here; the tests
# start their own private instances.
exit 101
EOF
	chmod 755 "$root/usr/sbin/policy-rc.d" &&
		rm -f "$root/etc/apt/sources.list" &&
		echo "$sources" >"$root/etc/apt/sources.list.d/debian.sources" &&
		echo 'Acquire::Languages "none";' \
			>"$root/etc/apt/apt.conf.d/90dovecot-readreceipt" &&
		# No fsync per file: an interrupted create starts over anyway.
		echo force-unsafe-io \
			>"$root/etc/dpkg/dpkg.cfg.d/90dovecot-readreceipt" ||
		return 1
	if [ ! -s "$root/etc/hosts" ]; then
		printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
			>"$root/etc/hosts" || return 1
	fi
}

rr_debian13__create_locked() {
	local dir stamp_text sources mirror tmp d missing rc
	dir=$(rr_debian13_dir)
	stamp_text=$(rr_debian13__stamp_text) || return 1
	sources=$(rr_debian13__sources) || return 1
	# A directory of an interrupted run is never used: start over.
	for d in "$dir".new.*; do
		[ -d "$d" ] || continue
		echo "debian13-env: removing $d of an interrupted run"
		rr_debian13__remove_tree "$d" || return 1
	done
	if [ -d "$dir" ]; then
		rr_debian13__configure "$dir" "$sources" || return 1
		if [ -f "$dir/$RR_DEBIAN13_STAMP" ] &&
				[ "$(cat "$dir/$RR_DEBIAN13_STAMP")" = "$stamp_text" ]; then
			missing=$(rr_debian13__missing "$dir")
			if [ -z "$missing" ]; then
				echo "debian13-env: $dir is up to date"
				return 0
			fi
			echo "debian13-env: missing in $dir:" "$(echo "$missing" | tr '\n' ' ')"
		else
			echo "debian13-env: package list or apt sources changed; updating $dir"
		fi
		# Without the stamp until apt has finished, so that an
		# interrupted update is done again.
		rm -f "$dir/$RR_DEBIAN13_STAMP"
		rr_debian13__install_packages "$dir" &&
			echo "$stamp_text" >"$dir/$RR_DEBIAN13_STAMP"
		return
	fi
	mirror=$(echo "$sources" | sed -n '1,/^$/s/^URIs: //p' | head -n 1)
	tmp=$(mktemp -d "$dir.new.XXXXXX") || return 1
	chmod 755 "$tmp"
	echo "debian13-env: debootstrap $RR_DEBIAN13_SUITE from $mirror into $tmp"
	rc=0
	rr_debian13__enter - "" debootstrap --variant=minbase \
		"$RR_DEBIAN13_SUITE" "$tmp" "$mirror" || rc=$?
	if [ "$rc" = 0 ]; then
		rr_debian13__configure "$tmp" "$sources" || rc=1
	fi
	if [ "$rc" = 0 ]; then
		rr_debian13__install_packages "$tmp" || rc=$?
	fi
	if [ "$rc" = 0 ]; then
		echo "$stamp_text" >"$tmp/$RR_DEBIAN13_STAMP" &&
			mv -T "$tmp" "$dir" || rc=1
	fi
	if [ "$rc" = 0 ]; then
		echo "debian13-env: $dir is ready"
		return 0
	fi
	echo "debian13-env: creating $dir failed" >&2
	rr_debian13__remove_tree "$tmp"
	return "$rc"
}

# Makes the chroot, or brings an existing one up to date with the package
# list. Interrupted, it leaves no directory that passes for a complete one.
rr_debian13__create() {
	rr_require_root
	rr_apt_install debootstrap || return 1
	rr_debian13__locked -x rr_debian13__create_locked
}

rr_debian13__update_locked() {
	local dir stamp
	dir=$(rr_debian13_dir)
	[ -f "$dir/$RR_DEBIAN13_STAMP" ] ||
		rr_debian13__die "no complete environment in $dir: run create first"
	stamp=$(cat "$dir/$RR_DEBIAN13_STAMP")
	rm -f "$dir/$RR_DEBIAN13_STAMP"
	rr_debian13__apt "$dir" dist-upgrade -y -q &&
		echo "$stamp" >"$dir/$RR_DEBIAN13_STAMP"
}

# Installs the updates of trixie, trixie-updates and trixie-security.
rr_debian13__update() {
	rr_require_root
	rr_debian13__locked -x rr_debian13__update_locked
}

rr_debian13__run_locked() {
	local dir src procs rc=0
	dir=$(rr_debian13_dir)
	[ -f "$dir/$RR_DEBIAN13_STAMP" ] ||
		rr_debian13__die "no complete environment in $dir: run create first"
	src=${RR_DEBIAN13_SRC-$RR_TOP_SRCDIR}
	if [ -n "$src" ]; then
		src=$(cd "$src" && pwd -P) || return 1
		case "$src" in
		/ | "$dir" | "$dir"/*) rr_debian13__die "cannot mount $src in the chroot" ;;
		esac
	fi
	rr_debian13__enter "$dir" "$src" "$@" || rc=$?
	# The namespaces are gone: nothing of this run can be mounted or
	# running. Check it anyway.
	if [ -n "$(rr_debian13__mounts_under "$dir")" ]; then
		rr_debian13__check_unused "$dir"
		echo "debian13-env: ERROR: mounts left behind in $dir" >&2
		return 1
	fi
	# shellcheck disable=SC2046
	procs=$(rr_debian13__alive $(rr_debian13__procs_under "$dir"))
	if [ -n "$procs" ]; then
		echo "debian13-env: warning: processes in $dir not started by this run:" >&2
		# shellcheck disable=SC2086
		rr_debian13__describe_procs $procs
	fi
	return "$rc"
}

# Runs "$@" as root in the chroot, in RR_DEBIAN13_SRC (default: this project
# tree), which is mounted at the same path inside; the environment holds
# only PATH, HOME=/root, LANG=C.UTF-8, DEBIAN_FRONTEND=noninteractive and
# RR_DEBIAN13_PASSENV. Returns the exit status of "$@".
rr_debian13__run() {
	rr_require_root
	[ $# -gt 0 ] || rr_debian13__die "run: no command"
	rr_debian13__locked -s rr_debian13__run_locked "$@"
}

rr_debian13__destroy_locked() {
	local dir d
	dir=$(rr_debian13_dir)
	for d in "$dir" "$dir".new.*; do
		[ -e "$d" ] || continue
		echo "debian13-env: removing $d"
		rr_debian13__remove_tree "$d" || return 1
	done
}

# Removes the chroot; refuses while anything is mounted or running in it.
rr_debian13__destroy() {
	rr_require_root
	rr_debian13__locked -x rr_debian13__destroy_locked
}

# For scripts that source this file. Each command runs as a process of its
# own, which gets TERM (and cleans up) if the caller dies first.
rr_debian13_create() {
	setpriv --pdeathsig TERM bash "$RR_DEBIAN13_SCRIPT" create
}

rr_debian13_update() {
	setpriv --pdeathsig TERM bash "$RR_DEBIAN13_SCRIPT" update
}

rr_debian13_run() {
	setpriv --pdeathsig TERM bash "$RR_DEBIAN13_SCRIPT" run "$@"
}

rr_debian13_destroy() {
	setpriv --pdeathsig TERM bash "$RR_DEBIAN13_SCRIPT" destroy
}

rr_debian13_main() {
	local cmd="${1:-}"
	[ $# -gt 0 ] && shift
	case "$cmd" in
	create) rr_debian13__create ;;
	update) rr_debian13__update ;;
	run) rr_debian13__run "$@" ;;
	destroy) rr_debian13__destroy ;;
	__inside) rr_debian13__inside "$@" ;;
	*)
		echo "usage: $(basename "$0") create | update | run CMD [ARG...] | destroy" >&2
		return 2
		;;
	esac
}

# Run as a script: the command runs in this process, so that INT and TERM
# reach the code that cleans up.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	rr_debian13_main "$@"
	exit
fi
