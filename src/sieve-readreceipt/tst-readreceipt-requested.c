/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"

#include "sieve-common.h"
#include "sieve-extensions.h"
#include "sieve-commands.h"
#include "sieve-code.h"
#include "sieve-validator.h"
#include "sieve-generator.h"
#include "sieve-interpreter.h"
#include "sieve-message.h"
#include "sieve-dump.h"
#include "ext-readreceipt-common.h"

/*
 * readreceipt_requested
 *
 * True when the message asks for a receipt that the storage module would
 * consider when the user opens it: exactly one valid
 * Disposition-Notification-To, not a report, not auto-submitted, not from
 * a list, addressed to readreceipt_user_email, not the user's own, no
 * $MDNSent (SPEC §3). Whether the administrator's policy then sends,
 * asks or suppresses it does not change the answer.
 */

static bool
tst_readreceipt_requested_generate(const struct sieve_codegen_env *cgenv,
				   struct sieve_command *cmd)
{
	sieve_operation_emit(cgenv->sblock, cmd->ext,
			     &readreceipt_requested_operation);
	return TRUE;
}

const struct sieve_command_def tst_readreceipt_requested = {
	.identifier = "readreceipt_requested",
	.type = SCT_TEST,
	.positional_args = 0,
	.subtests = 0,
	.block_allowed = FALSE,
	.block_required = FALSE,
	.generate = tst_readreceipt_requested_generate,
};

static bool
tst_readreceipt_requested_operation_dump(
	const struct sieve_dumptime_env *denv,
	sieve_size_t *address ATTR_UNUSED)
{
	sieve_code_dumpf(denv, "READRECEIPT_REQUESTED");
	return TRUE;
}

static int
tst_readreceipt_requested_operation_execute(
	const struct sieve_runtime_env *renv,
	sieve_size_t *address ATTR_UNUSED)
{
	const struct sieve_script_env *senv = renv->exec_env->scriptenv;
	struct mail *mail = sieve_message_get_mail(renv->msgctx);
	bool requested = FALSE;

	if (mail == NULL ||
	    ext_readreceipt_storage_requested(senv->user, mail,
					      &requested) == 0) {
		sieve_runtime_warning(renv, NULL,
			"readreceipt_requested: the readreceipt module is not "
			"loaded for this user (mail_plugins), so no message "
			"asks for a receipt");
	}
	sieve_runtime_trace(renv, SIEVE_TRLVL_TESTS,
			    "readreceipt_requested test: %s",
			    requested ? "yes" : "no");
	sieve_interpreter_set_test_result(renv->interp, requested);
	return SIEVE_EXEC_OK;
}

const struct sieve_operation_def readreceipt_requested_operation = {
	.mnemonic = "READRECEIPT_REQUESTED",
	.ext_def = &readreceipt_extension,
	.code = EXT_READRECEIPT_OPERATION_REQUESTED,
	.dump = tst_readreceipt_requested_operation_dump,
	.execute = tst_readreceipt_requested_operation_execute,
};
