#!/bin/bash
# Runs the integration tests (tests/integration, from this source tree)
# against the installed dovecot-readreceipt package: a private Dovecot
# loads the modules from /usr/lib/dovecot/modules, never from a build tree.
# debian/tests/control (autopkgtest) runs it; so does scripts/test-package.sh.
#   PYTEST_ARGS=...   extra pytest arguments, e.g. "-k pop3 -x"
set -e
# shellcheck source=SCRIPTDIR/deps.sh
. "$(dirname "$0")/deps.sh"
rr_require_root

module_dir=/usr/lib/dovecot/modules
module=$module_dir/lib20_readreceipt_plugin.so
owner=$(dpkg-query -S "$module" 2>/dev/null | cut -d: -f1 || true)
if [ "$owner" != dovecot-readreceipt ]; then
	echo "$(basename "$0"): $module is not installed by the" \
		"dovecot-readreceipt package" >&2
	exit 1
fi

export READRECEIPT_MODULE_DIR=$module_dir
unset READRECEIPT_BUILDDIR READRECEIPT_NO_PLUGIN
# The source tree may be read-only (autopkgtest).
export PYTHONDONTWRITEBYTECODE=1
cd "$RR_TOP_SRCDIR"
echo "== integration tests against the installed modules in $module_dir"
# shellcheck disable=SC2086
exec /usr/bin/python3 -m pytest -p no:cacheprovider ${PYTEST_ARGS:-} \
	tests/integration
