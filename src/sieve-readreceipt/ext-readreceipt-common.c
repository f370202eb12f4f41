/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "mail-storage.h"

#include "sieve-common.h"
#include "sieve-extensions.h"
#include "sieve-objects.h"
#include "sieve-actions.h"
#include "sieve-result.h"
#include "sieve-message.h"
#include "sieve-interpreter.h"
#include "readreceipt-names.h"
#include "ext-readreceipt-common.h"

/* What the scripts decided for the message being filtered. It lives on the
   result, which sieve_before, personal and sieve_after scripts share. */
struct ext_readreceipt_result_context {
	enum ext_readreceipt_rule rule;
	/* the "never" event is emitted once per message, not per copy */
	bool never_reported;
};

static const char *const ext_readreceipt_rule_names[] = {
	[EXT_READRECEIPT_RULE_NONE] = "",
	[EXT_READRECEIPT_RULE_ASK] = "ask",
	[EXT_READRECEIPT_RULE_NEVER] = "never",
};

static const char *const ext_readreceipt_rule_keywords[] = {
	[EXT_READRECEIPT_RULE_NONE] = NULL,
	[EXT_READRECEIPT_RULE_ASK] = READRECEIPT_KEYWORD_MDNASK,
	[EXT_READRECEIPT_RULE_NEVER] = READRECEIPT_KEYWORD_MDNSENT,
};

const char *ext_readreceipt_rule_name(enum ext_readreceipt_rule rule)
{
	i_assert(rule <= EXT_READRECEIPT_RULE_MAX);
	return ext_readreceipt_rule_names[rule];
}

const char *ext_readreceipt_rule_keyword(enum ext_readreceipt_rule rule)
{
	i_assert(rule <= EXT_READRECEIPT_RULE_MAX);
	return ext_readreceipt_rule_keywords[rule];
}

bool ext_readreceipt_rule_parse(const char *name,
				enum ext_readreceipt_rule *rule_r)
{
	if (strcmp(name, "never") == 0)
		*rule_r = EXT_READRECEIPT_RULE_NEVER;
	else if (strcmp(name, "ask") == 0)
		*rule_r = EXT_READRECEIPT_RULE_ASK;
	else
		return FALSE;
	return TRUE;
}

static struct ext_readreceipt_result_context *
ext_readreceipt_result_context(const struct sieve_extension *ext,
			       struct sieve_result *result)
{
	/* created by the interpreter extension's run() before any command
	   of a script that uses the extension */
	return (struct ext_readreceipt_result_context *)
		sieve_result_extension_get_context(result, ext);
}

void ext_readreceipt_result_add_rule(const struct sieve_runtime_env *renv,
				     const struct sieve_extension *ext,
				     enum ext_readreceipt_rule rule)
{
	struct ext_readreceipt_result_context *rctx =
		ext_readreceipt_result_context(ext, renv->result);

	i_assert(rctx != NULL);
	/* rules only tighten: "ask" after "never" keeps "never" */
	if (rule > rctx->rule)
		rctx->rule = rule;
}

/*
 * The side effect on keep and fileinto: the stored copy gets the rule's
 * keyword, the way imap4flags gives it flags.
 */

static void
seff_readreceipt_print(const struct sieve_side_effect *seffect,
		       const struct sieve_action *action ATTR_UNUSED,
		       const struct sieve_result_print_env *rpenv,
		       bool *keep ATTR_UNUSED)
{
	struct ext_readreceipt_result_context *rctx =
		ext_readreceipt_result_context(SIEVE_OBJECT_EXTENSION(seffect),
					       rpenv->result);

	if (rctx == NULL || rctx->rule == EXT_READRECEIPT_RULE_NONE)
		return;
	sieve_result_seffect_printf(rpenv, "readreceipt \"%s\": add keyword %s",
		ext_readreceipt_rule_name(rctx->rule),
		ext_readreceipt_rule_keyword(rctx->rule));
}

static int
seff_readreceipt_pre_execute(const struct sieve_side_effect *seffect,
			     const struct sieve_action_exec_env *aenv,
			     void *tr_context,
			     void **se_tr_context ATTR_UNUSED)
{
	struct ext_readreceipt_result_context *rctx =
		ext_readreceipt_result_context(SIEVE_OBJECT_EXTENSION(seffect),
					       aenv->result);
	const char *keywords[2] = { NULL, NULL };

	if (rctx == NULL || rctx->rule == EXT_READRECEIPT_RULE_NONE ||
	    tr_context == NULL)
		return SIEVE_EXEC_OK;
	keywords[0] = ext_readreceipt_rule_keyword(rctx->rule);
	sieve_act_store_add_flags(aenv, tr_context, keywords, 0);
	return SIEVE_EXEC_OK;
}

static void
seff_readreceipt_post_commit(const struct sieve_side_effect *seffect,
			     const struct sieve_action_exec_env *aenv,
			     void *tr_context,
			     void *se_tr_context ATTR_UNUSED,
			     int commit_status)
{
	struct ext_readreceipt_result_context *rctx =
		ext_readreceipt_result_context(SIEVE_OBJECT_EXTENSION(seffect),
					       aenv->result);
	struct act_store_transaction *trans = tr_context;
	const struct sieve_script_env *senv = aenv->exec_env->scriptenv;
	struct mail *mail;
	const char *mailbox;

	if (rctx == NULL || rctx->rule != EXT_READRECEIPT_RULE_NEVER ||
	    rctx->never_reported || commit_status != SIEVE_EXEC_OK ||
	    trans == NULL || trans->disabled || trans->redundant)
		return;
	rctx->never_reported = TRUE;

	mail = sieve_message_get_mail(aenv->msgctx);
	if (mail == NULL || senv == NULL)
		return;
	mailbox = trans->mailbox_name != NULL ? trans->mailbox_name : "INBOX";
	ext_readreceipt_storage_never(senv->user, mail, mailbox);
}

static const struct sieve_side_effect_def readreceipt_side_effect = {
	SIEVE_OBJECT("readreceipt", NULL, 0),
	.to_action = &act_store,
	.print = seff_readreceipt_print,
	.pre_execute = seff_readreceipt_pre_execute,
	.post_commit = seff_readreceipt_post_commit,
};

/*
 * Runtime
 */

static int
ext_readreceipt_runtime_init(const struct sieve_extension *ext,
			     const struct sieve_runtime_env *renv,
			     void *context ATTR_UNUSED,
			     bool deferred ATTR_UNUSED)
{
	struct ext_readreceipt_result_context *rctx;

	if (ext_readreceipt_result_context(ext, renv->result) != NULL) {
		/* an earlier script (sieve_before) already set it up */
		return SIEVE_EXEC_OK;
	}
	rctx = p_new(sieve_result_pool(renv->result),
		     struct ext_readreceipt_result_context, 1);
	sieve_result_extension_set_context(renv->result, ext, rctx);

	/* Attached to every store of the message, whichever script adds
	   it: the keyword is chosen when the store executes, so a rule
	   anywhere in a script applies to that script's stores and to the
	   implicit keep. (A sieve_before script's fileinto executes before
	   the personal script runs: a later rule cannot reach that copy.) */
	sieve_result_add_implicit_side_effect(renv->result, NULL, TRUE, ext,
					      &readreceipt_side_effect, NULL);
	return SIEVE_EXEC_OK;
}

const struct sieve_interpreter_extension readreceipt_interpreter_extension = {
	.ext_def = &readreceipt_extension,
	.run = ext_readreceipt_runtime_init,
};
