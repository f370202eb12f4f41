/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "str-sanitize.h"

#include "sieve-common.h"
#include "sieve-extensions.h"
#include "sieve-commands.h"
#include "sieve-code.h"
#include "sieve-binary.h"
#include "sieve-validator.h"
#include "sieve-generator.h"
#include "sieve-interpreter.h"
#include "sieve-dump.h"
#include "ext-readreceipt-common.h"

/*
 * readreceipt <rule: "never" / "ask">
 *
 * The rule is a constant: it is checked when the script is compiled, so a
 * mistyped rule is a compile error and never a silent no-op at delivery.
 */

static bool
cmd_readreceipt_validate(struct sieve_validator *valdtr,
			 struct sieve_command *cmd)
{
	struct sieve_ast_argument *arg = cmd->first_positional;
	enum ext_readreceipt_rule rule;
	const char *name;

	if (!sieve_validate_positional_argument(valdtr, cmd, arg, "rule", 1,
						SAAT_STRING))
		return FALSE;
	/* The argument is not activated, so variables are not expanded:
	   the rule is known at compile time. */
	name = sieve_ast_argument_strc(arg);
	if (strstr(name, "${") != NULL) {
		sieve_argument_validate_error(valdtr, arg,
			"readreceipt: the rule must be a constant, "
			"\"never\" or \"ask\" (variables are not expanded)");
		return FALSE;
	}
	if (!ext_readreceipt_rule_parse(name, &rule)) {
		sieve_argument_validate_error(valdtr, arg,
			"readreceipt: unknown rule \"%s\" "
			"(use \"never\" or \"ask\")",
			str_sanitize(name, 64));
		return FALSE;
	}
	cmd->data = POINTER_CAST(rule);
	/* the rule is coded as a byte, not as a string argument */
	sieve_ast_arguments_detach(arg, 1);
	return TRUE;
}

static bool
cmd_readreceipt_generate(const struct sieve_codegen_env *cgenv,
			 struct sieve_command *cmd)
{
	enum ext_readreceipt_rule rule = POINTER_CAST_TO(cmd->data,
		enum ext_readreceipt_rule);

	sieve_operation_emit(cgenv->sblock, cmd->ext, &readreceipt_operation);
	(void)sieve_binary_emit_byte(cgenv->sblock, (uint8_t)rule);
	return TRUE;
}

const struct sieve_command_def cmd_readreceipt = {
	.identifier = "readreceipt",
	.type = SCT_COMMAND,
	.positional_args = 1,
	.subtests = 0,
	.block_allowed = FALSE,
	.block_required = FALSE,
	.validate = cmd_readreceipt_validate,
	.generate = cmd_readreceipt_generate,
};

static bool
cmd_readreceipt_read_rule(struct sieve_binary_block *sblock,
			  sieve_size_t *address,
			  enum ext_readreceipt_rule *rule_r)
{
	unsigned int code;

	if (!sieve_binary_read_byte(sblock, address, &code) ||
	    code == EXT_READRECEIPT_RULE_NONE ||
	    code > EXT_READRECEIPT_RULE_MAX)
		return FALSE;
	*rule_r = (enum ext_readreceipt_rule)code;
	return TRUE;
}

static bool
cmd_readreceipt_operation_dump(const struct sieve_dumptime_env *denv,
			       sieve_size_t *address)
{
	enum ext_readreceipt_rule rule;

	if (!cmd_readreceipt_read_rule(denv->sblock, address, &rule))
		return FALSE;
	sieve_code_dumpf(denv, "READRECEIPT \"%s\"",
			 ext_readreceipt_rule_name(rule));
	return TRUE;
}

static int
cmd_readreceipt_operation_execute(const struct sieve_runtime_env *renv,
				  sieve_size_t *address)
{
	enum ext_readreceipt_rule rule;

	if (!cmd_readreceipt_read_rule(renv->sblock, address, &rule)) {
		sieve_runtime_trace_error(renv, "invalid readreceipt rule");
		return SIEVE_EXEC_BIN_CORRUPT;
	}
	sieve_runtime_trace(renv, SIEVE_TRLVL_ACTIONS,
			    "readreceipt \"%s\": stored copies get %s",
			    ext_readreceipt_rule_name(rule),
			    ext_readreceipt_rule_keyword(rule));
	ext_readreceipt_result_add_rule(renv, renv->oprtn->ext, rule);
	return SIEVE_EXEC_OK;
}

const struct sieve_operation_def readreceipt_operation = {
	.mnemonic = "READRECEIPT",
	.ext_def = &readreceipt_extension,
	.code = EXT_READRECEIPT_OPERATION_READRECEIPT,
	.dump = cmd_readreceipt_operation_dump,
	.execute = cmd_readreceipt_operation_execute,
};
