/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"

#include "sieve-common.h"
#include "sieve-extensions.h"
#include "sieve-commands.h"
#include "sieve-validator.h"
#include "sieve-interpreter.h"
#include "ext-readreceipt-common.h"

static const struct sieve_operation_def *ext_readreceipt_operations[] = {
	&readreceipt_operation,
	&readreceipt_requested_operation,
};

static bool
ext_readreceipt_validator_load(const struct sieve_extension *ext,
			       struct sieve_validator *valdtr)
{
	sieve_validator_register_command(valdtr, ext, &cmd_readreceipt);
	sieve_validator_register_command(valdtr, ext,
					 &tst_readreceipt_requested);
	return TRUE;
}

static bool
ext_readreceipt_interpreter_load(const struct sieve_extension *ext,
				 const struct sieve_runtime_env *renv,
				 sieve_size_t *address ATTR_UNUSED)
{
	/* its run() attaches the keyword side effect to every store */
	sieve_interpreter_extension_register(
		renv->interp, ext, &readreceipt_interpreter_extension, NULL);
	return TRUE;
}

const struct sieve_extension_def readreceipt_extension = {
	.name = EXT_READRECEIPT_NAME,
	.validator_load = ext_readreceipt_validator_load,
	.interpreter_load = ext_readreceipt_interpreter_load,
	SIEVE_EXT_DEFINE_OPERATIONS(ext_readreceipt_operations),
};
