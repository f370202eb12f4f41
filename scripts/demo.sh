#!/bin/bash
# Installs what is missing, builds, then starts a private Dovecot with the
# readreceipt module and an SMTP sink on 127.0.0.1, sends a message that
# asks for a receipt, opens it, and shows the receipt. Both stay running.
#   ./scripts/demo.sh --stop       stop them
#   ./scripts/demo.sh --deliver    deliver one more sample message
set -e
# shellcheck source=SCRIPTDIR/deps.sh
. "$(dirname "$0")/deps.sh"
rr_require_root
case "${1:-}" in
--stop|--deliver) ;;
*)
	rr_install_deps
	rr_build
	;;
esac
exec /usr/bin/python3 "$RR_TOP_SRCDIR/scripts/demo.py" "$@"
