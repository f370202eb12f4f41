/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str-sanitize.h"
#include "strnum.h"
#include "time-util.h"
#include "mail-storage.h"
#include "mail-search-build.h"
#include "doveadm-print.h"
#include "doveadm-mail.h"
#include "doveadm-mailbox-list-iter.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"
#include "readreceipt-user.h"
#include "readreceipt-refresh.h"
#include "readreceipt-queue.h"
#include "readreceipt-decide.h"
#include "readreceipt-sender.h"
#include "doveadm-readreceipt-source.h"
#include "doveadm-readreceipt-cmds.h"

/* doveadm loads its modules with RTLD_NOW: one symbol that the storage
   module does not export and this module is skipped without a word, so
   that "doveadm readreceipt" becomes an unknown command. The pending queue
   is therefore reached through weak references: with a storage module
   built without it, "policy" and the argument checks still work and the
   queue commands say what is missing. */
#pragma weak readreceipt_queue_available
#pragma weak readreceipt_queue_list
#pragma weak readreceipt_decide_answer_now
#pragma weak readreceipt_decide_expire
#pragma weak readreceipt_sender_flush_box
#pragma weak readreceipt_sender_send_uid
#pragma weak readreceipt_sender_list_box
#pragma weak readreceipt_refresh_sync

/* how "since" is shown: ISO 8601 in UTC */
#define DOVEADM_READRECEIPT_TIME_FORMAT "%Y-%m-%dT%H:%M:%SZ"
/* the row after the settings that names the release of this module */
#define DOVEADM_READRECEIPT_POLICY_VERSION_ROW "version"
/* the last row, after the version, that carries a validation error */
#define DOVEADM_READRECEIPT_POLICY_ERROR_ROW "error"
/* the last row: when the module first saw this policy for the user */
#define DOVEADM_READRECEIPT_POLICY_SEEN_ROW "seen"

struct readreceipt_list_cmd_context {
	struct doveadm_mail_cmd_context ctx;
	/* NULL: every mailbox */
	const char *mailbox;
};

struct readreceipt_answer_cmd_context {
	struct doveadm_mail_cmd_context ctx;
	enum readreceipt_answer answer;
	const char *mailbox;
	uint32_t uid;
};

struct readreceipt_flush_cmd_context {
	struct doveadm_mail_cmd_context ctx;
	/* receipts sent for the current user */
	unsigned int sent;
	/* a temporary failure stopped the user's batch */
	bool stopped;
};

typedef int
doveadm_readreceipt_box_func_t(struct doveadm_mail_cmd_context *ctx,
			       struct mailbox *box);

static const char *
doveadm_readreceipt_cmd_name(const struct doveadm_mail_cmd_context *ctx)
{
	return ctx->cmd->name;
}

/* Each command's init() takes the positional arguments as 2.3 hands them
   over. Dovecot 2.4 calls init() with the context only: the command's
   positional parameters are then read by name, in their order, and
   DOVEADM_READRECEIPT_INIT(func) is the init() to give to doveadm. */
#if DOVECOT_PREREQ(2, 4, 0)
static const char *const *
doveadm_readreceipt_args(struct doveadm_mail_cmd_context *ctx)
{
	const struct doveadm_cmd_param *param;
	ARRAY_TYPE(const_string) args;
	const char *value;

	t_array_init(&args, 4);
	for (param = ctx->cctx->cmd->parameters; param->name != NULL;
	     param++) {
		if ((param->flags & CMD_PARAM_FLAG_POSITIONAL) != 0 &&
		    doveadm_cmd_param_str(ctx->cctx, param->name, &value))
			array_push_back(&args, &value);
	}
	array_append_zero(&args);
	return array_front(&args);
}

#  define DOVEADM_READRECEIPT_INIT_DEFINE(func) \
static void func##_args(struct doveadm_mail_cmd_context *ctx) \
{ \
	func(ctx, doveadm_readreceipt_args(ctx)); \
}
#  define DOVEADM_READRECEIPT_INIT(func) func##_args
#else
#  define DOVEADM_READRECEIPT_INIT_DEFINE(func)
#  define DOVEADM_READRECEIPT_INIT(func) func
#endif

/* The storage module's user context, or NULL (exit code set) when the
   module is not in this user's mail_plugins. */
static struct readreceipt_user *
doveadm_readreceipt_user(struct doveadm_mail_cmd_context *ctx,
			 struct mail_user *user)
{
	struct readreceipt_user *ruser = readreceipt_user_get(user);

	if (ruser == NULL) {
		i_error("readreceipt is not enabled for this user "
			"(add readreceipt to mail_plugins)");
		doveadm_mail_failed_error(ctx, MAIL_ERROR_NOTPOSSIBLE);
	}
	return ruser;
}

static bool
doveadm_readreceipt_queue_linked(struct doveadm_mail_cmd_context *ctx)
{
	if (readreceipt_queue_available != NULL &&
	    readreceipt_queue_list != NULL &&
	    readreceipt_decide_answer_now != NULL &&
	    readreceipt_decide_expire != NULL &&
	    readreceipt_sender_flush_box != NULL &&
	    readreceipt_sender_send_uid != NULL &&
	    readreceipt_sender_list_box != NULL)
		return TRUE;
	i_error("%s: the loaded readreceipt storage module has no pending "
		"queue (install the storage module of the same release)",
		doveadm_readreceipt_cmd_name(ctx));
	doveadm_mail_failed_error(ctx, MAIL_ERROR_NOTPOSSIBLE);
	return FALSE;
}

/* Open the mailbox vname and call func for it. Returns func's result, or
   -1 with the exit code set when the mailbox cannot be opened (68 when it
   does not exist). */
static int
doveadm_readreceipt_box(struct doveadm_mail_cmd_context *ctx,
			struct mail_user *user, const char *vname,
			doveadm_readreceipt_box_func_t *func)
{
	struct mailbox *box;
	int ret;

	box = doveadm_mailbox_find(user, vname);
	if (mailbox_open(box) < 0) {
		i_error("Failed to open mailbox %s: %s", vname,
			mailbox_get_last_internal_error(box, NULL));
		doveadm_mail_failed_mailbox(ctx, box);
		ret = -1;
	} else {
		ret = func(ctx, box);
	}
	mailbox_free(&box);
	return ret;
}

/* Call func for every selectable mailbox of the user's private
   namespaces. Goes on after a mailbox failed; returns -1 if any did. */
static int
doveadm_readreceipt_all_boxes(struct doveadm_mail_cmd_context *ctx,
			      struct mail_user *user,
			      doveadm_readreceipt_box_func_t *func)
{
	const enum mailbox_list_iter_flags iter_flags =
		MAILBOX_LIST_ITER_NO_AUTO_BOXES |
		MAILBOX_LIST_ITER_RETURN_NO_FLAGS;
	struct doveadm_mailbox_list_iter *iter;
	struct mail_search_args *search_args;
	const struct mailbox_info *info;
	int ret = 0;

	/* no mailbox patterns: all of them */
	search_args = mail_search_build_init();
	iter = doveadm_mailbox_list_iter_init(ctx, user, search_args,
					      iter_flags);
	while ((info = doveadm_mailbox_list_iter_next(iter)) != NULL) T_BEGIN {
		if (doveadm_readreceipt_box(ctx, user, info->vname, func) < 0)
			ret = -1;
	} T_END;
	if (doveadm_mailbox_list_iter_deinit(&iter) < 0)
		ret = -1;
	mail_search_args_unref(&search_args);
	return ret;
}

/* ---- policy */

/* Record the policy as seen (telling a change, SPEC §15) and print when it
   was first seen; apply: ask open sessions to read it again now. Returns
   the time, or 0 when it could not be recorded. */
static time_t
doveadm_readreceipt_sync(struct readreceipt_user *ruser, bool apply)
{
	const char *error;
	time_t seen;

	if (readreceipt_refresh_sync == NULL) {
		i_error("The storage module is too old for policy records");
		return 0;
	}
	if (readreceipt_refresh_sync(ruser, apply, &seen, &error) < 0) {
		i_error("Failed to record the policy: %s", error);
		return 0;
	}
	return seen;
}

static void doveadm_readreceipt_print_seen(struct readreceipt_user *ruser)
{
	time_t seen = doveadm_readreceipt_sync(ruser, FALSE);

	doveadm_print(DOVEADM_READRECEIPT_POLICY_SEEN_ROW);
	doveadm_print(seen == 0 ? "-" :
		      t_strfgmtime(DOVEADM_READRECEIPT_TIME_FORMAT, seen));
	doveadm_print("-");
}

static int
cmd_readreceipt_policy_run(struct doveadm_mail_cmd_context *ctx,
			   struct mail_user *user)
{
	struct readreceipt_user *ruser;
	struct readreceipt_compat_settings *configured;
	enum doveadm_readreceipt_source source;
	const char **values, *name, *error;
	unsigned int i;

	ruser = doveadm_readreceipt_user(ctx, user);
	if (ruser == NULL)
		return -1;

	/* the values as written, to tell a default from a setting */
	if (readreceipt_compat_settings_get(user, TRUE, &configured,
					    &error) < 0)
		i_error("Failed to read the settings: %s", error);
	values = t_new(const char *, readreceipt_setting_count + 1);
	readreceipt_settings_values(ruser->set, values);
	for (i = 0; i < readreceipt_setting_count; i++) {
		name = readreceipt_setting_names[i];
		source = doveadm_readreceipt_setting_source(name,
			readreceipt_compat_setting(configured, name),
			readreceipt_compat_setting_configured(configured,
							      name) != NULL,
			user->userdb_fields);
		doveadm_print(name);
		doveadm_print(values[i]);
		doveadm_print(doveadm_readreceipt_source_to_str(source));
	}
	/* what an admin quotes in a bug report, beside the settings */
	doveadm_print(DOVEADM_READRECEIPT_POLICY_VERSION_ROW);
	doveadm_print(READRECEIPT_VERSION);
	doveadm_print("-");
	if (ruser->set->error != NULL) {
		/* Shown, not failed: the command did what was asked, and the
		   user still reads mail (receipts are off, the values above
		   say so). */
		doveadm_print(DOVEADM_READRECEIPT_POLICY_ERROR_ROW);
		doveadm_print(t_strconcat("receipts are disabled: ",
					  ruser->set->error, NULL));
		doveadm_print("-");
	}
	readreceipt_compat_settings_free(&configured);
	doveadm_readreceipt_print_seen(ruser);
	return 0;
}

static void
cmd_readreceipt_policy_init(struct doveadm_mail_cmd_context *ctx,
			    const char *const args[])
{
	if (args[0] != NULL)
		doveadm_mail_help_name(doveadm_readreceipt_cmd_name(ctx));
	doveadm_print_header_simple("setting");
	doveadm_print_header_simple("value");
	doveadm_print_header_simple("source");
}
DOVEADM_READRECEIPT_INIT_DEFINE(cmd_readreceipt_policy_init)

static struct doveadm_mail_cmd_context *cmd_readreceipt_policy_alloc(void)
{
	struct doveadm_mail_cmd_context *ctx;

	ctx = doveadm_mail_cmd_alloc(struct doveadm_mail_cmd_context);
	ctx->v.init = DOVEADM_READRECEIPT_INIT(cmd_readreceipt_policy_init);
	ctx->v.run = cmd_readreceipt_policy_run;
	doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
	return ctx;
}

/* ---- list */

static void
cmd_readreceipt_list_print(struct mailbox *box,
			   const struct readreceipt_pending_entry *entry)
{
	const struct readreceipt_pending *pending = &entry->pending;

	doveadm_print(mailbox_get_vname(box));
	doveadm_print_num(entry->uid);
	doveadm_print(pending->reason);
	doveadm_print(t_strfgmtime(DOVEADM_READRECEIPT_TIME_FORMAT,
				   pending->since));
	doveadm_print(!array_is_created(&pending->to) ? "" :
		      t_array_const_string_join(&pending->to, ", "));
	/* taken from the original message: no control characters in a
	   table row */
	doveadm_print(str_sanitize(pending->subject, SIZE_MAX));
	doveadm_print(str_sanitize(pending->message_id, SIZE_MAX));
}

static int
cmd_readreceipt_list_entries(struct doveadm_mail_cmd_context *ctx,
			     struct mailbox *box)
{
	ARRAY_TYPE(readreceipt_pending_entry) entries;
	const struct readreceipt_pending_entry *entry;
	const char *error;
	pool_t pool;
	int ret = 0;

	pool = pool_alloconly_create("readreceipt list", 1024);
	p_array_init(&entries, pool, 8);
	/* owed receipts first: they need no attribute dict */
	(void)readreceipt_sender_list_box(box, pool, &entries);
	if (readreceipt_queue_available(
		mail_storage_get_user(mailbox_get_storage(box))) &&
	    readreceipt_queue_list(box, pool, &entries, &error) < 0) {
		i_error("Failed to list the pending receipts of %s: %s",
			mailbox_get_vname(box), error);
		doveadm_mail_failed_error(ctx, MAIL_ERROR_TEMP);
		ret = -1;
	}
	array_foreach(&entries, entry)
		cmd_readreceipt_list_print(box, entry);
	pool_unref(&pool);
	return ret;
}

/* Returns 1 if the user's entries can be listed, 0 if none can exist (no
   attribute dict), -1 with the exit code set if the storage module has no
   queue. */
static int
cmd_readreceipt_list_queue(struct doveadm_mail_cmd_context *ctx,
			   struct mail_user *user)
{
	if (!doveadm_readreceipt_queue_linked(ctx))
		return -1;
	if (readreceipt_queue_available(user))
		return 1;
	/* not for -A: it would be repeated for every user */
	if (ctx->iterate_single_user) {
		i_warning("No mail_attribute_dict for this user: "
			  "prompts cannot be queued (owed receipts are "
			  "listed)");
	}
	return 0;
}

/* list MAILBOX: the mailbox is opened first, so that an unknown one is
   "not found" whatever else is wrong */
static int
cmd_readreceipt_list_box(struct doveadm_mail_cmd_context *ctx,
			 struct mailbox *box)
{
	int ret;

	/* without an attribute dict only owed receipts can be listed */
	ret = cmd_readreceipt_list_queue(ctx,
		mail_storage_get_user(mailbox_get_storage(box)));
	if (ret < 0)
		return ret;
	return cmd_readreceipt_list_entries(ctx, box);
}

static int
cmd_readreceipt_list_run(struct doveadm_mail_cmd_context *ctx,
			 struct mail_user *user)
{
	struct readreceipt_list_cmd_context *lctx =
		(struct readreceipt_list_cmd_context *)ctx;
	int ret;

	if (doveadm_readreceipt_user(ctx, user) == NULL)
		return -1;
	if (lctx->mailbox != NULL) {
		return doveadm_readreceipt_box(ctx, user, lctx->mailbox,
					       cmd_readreceipt_list_box);
	}
	if ((ret = cmd_readreceipt_list_queue(ctx, user)) < 0)
		return ret;
	return doveadm_readreceipt_all_boxes(ctx, user,
					     cmd_readreceipt_list_entries);
}

static void
cmd_readreceipt_list_init(struct doveadm_mail_cmd_context *ctx,
			  const char *const args[])
{
	struct readreceipt_list_cmd_context *lctx =
		(struct readreceipt_list_cmd_context *)ctx;

	if (args[0] != NULL && args[1] != NULL)
		doveadm_mail_help_name(doveadm_readreceipt_cmd_name(ctx));
	lctx->mailbox = p_strdup(ctx->pool, args[0]);

	doveadm_print_header_simple("mailbox");
	doveadm_print_header("uid", "uid",
			     DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY);
	doveadm_print_header_simple("reason");
	doveadm_print_header_simple("since");
	doveadm_print_header_simple("to");
	doveadm_print_header_simple("subject");
	doveadm_print_header_simple("message_id");
}
DOVEADM_READRECEIPT_INIT_DEFINE(cmd_readreceipt_list_init)

static struct doveadm_mail_cmd_context *cmd_readreceipt_list_alloc(void)
{
	struct readreceipt_list_cmd_context *ctx;

	ctx = doveadm_mail_cmd_alloc(struct readreceipt_list_cmd_context);
	ctx->ctx.v.init = DOVEADM_READRECEIPT_INIT(cmd_readreceipt_list_init);
	ctx->ctx.v.run = cmd_readreceipt_list_run;
	doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
	return &ctx->ctx;
}

/* ---- send, ignore */

static int
cmd_readreceipt_answer_box(struct doveadm_mail_cmd_context *ctx,
			   struct mailbox *box)
{
	struct readreceipt_answer_cmd_context *actx =
		(struct readreceipt_answer_cmd_context *)ctx;
	const char *error;
	uint32_t seq1, seq2;
	int ret;

	/* Checked here too, so that a wrong UID is "not found" in
	   doveadm's terms whatever the storage module says about it. */
	if (mailbox_sync(box, 0) < 0) {
		i_error("Failed to sync mailbox %s: %s", actx->mailbox,
			mailbox_get_last_internal_error(box, NULL));
		doveadm_mail_failed_mailbox(ctx, box);
		return -1;
	}
	mailbox_get_seq_range(box, actx->uid, actx->uid, &seq1, &seq2);
	if (seq1 == 0) {
		i_error("No message with UID %u in mailbox %s",
			actx->uid, actx->mailbox);
		doveadm_mail_failed_error(ctx, MAIL_ERROR_NOTFOUND);
		return -1;
	}
	if (!doveadm_readreceipt_queue_linked(ctx))
		return -1;

	ret = readreceipt_decide_answer_now(box, actx->uid, actx->answer,
					    &error);
	if (ret > 0 && actx->answer == READRECEIPT_ANSWER_SEND) {
		/* owed now: it leaves at once, or stays owed for the next
		   try */
		ret = readreceipt_sender_send_uid(box, actx->uid, &error);
		if (ret < 0) {
			error = t_strdup_printf("%s (the receipt stays owed "
				"and is retried by the next session or "
				"doveadm readreceipt flush)", error);
		}
	}
	if (ret > 0)
		return 0;
	i_error("%s %s %u: %s", doveadm_readreceipt_cmd_name(ctx),
		actx->mailbox, actx->uid, error);
	/* 0: no such message, or it asks for no receipt; -1: the send or
	   the flag update failed and may work later */
	doveadm_mail_failed_error(ctx, ret == 0 ? MAIL_ERROR_NOTFOUND :
				  MAIL_ERROR_TEMP);
	return -1;
}

static int
cmd_readreceipt_answer_run(struct doveadm_mail_cmd_context *ctx,
			   struct mail_user *user)
{
	struct readreceipt_answer_cmd_context *actx =
		(struct readreceipt_answer_cmd_context *)ctx;

	if (doveadm_readreceipt_user(ctx, user) == NULL)
		return -1;
	return doveadm_readreceipt_box(ctx, user, actx->mailbox,
				       cmd_readreceipt_answer_box);
}

static void
cmd_readreceipt_answer_init(struct doveadm_mail_cmd_context *ctx,
			    const char *const args[])
{
	struct readreceipt_answer_cmd_context *actx =
		(struct readreceipt_answer_cmd_context *)ctx;
	const char *name = doveadm_readreceipt_cmd_name(ctx);

	if (args[0] == NULL || args[1] == NULL || args[2] != NULL)
		doveadm_mail_help_name(name);
	if (!ctx->iterate_single_user) {
		i_fatal_status(EX_USAGE, "%s answers for one user's message: "
			       "give -u <user>, not -A or a wildcard", name);
	}
	if (str_to_uint32(args[1], &actx->uid) < 0 || actx->uid == 0)
		i_fatal_status(EX_USAGE, "%s: invalid UID: %s", name, args[1]);
	actx->mailbox = p_strdup(ctx->pool, args[0]);
}
DOVEADM_READRECEIPT_INIT_DEFINE(cmd_readreceipt_answer_init)

static struct doveadm_mail_cmd_context *
cmd_readreceipt_answer_alloc(enum readreceipt_answer answer)
{
	struct readreceipt_answer_cmd_context *ctx;

	ctx = doveadm_mail_cmd_alloc(struct readreceipt_answer_cmd_context);
	ctx->answer = answer;
	ctx->ctx.v.init = DOVEADM_READRECEIPT_INIT(cmd_readreceipt_answer_init);
	ctx->ctx.v.run = cmd_readreceipt_answer_run;
	return &ctx->ctx;
}

static struct doveadm_mail_cmd_context *cmd_readreceipt_send_alloc(void)
{
	return cmd_readreceipt_answer_alloc(READRECEIPT_ANSWER_SEND);
}

static struct doveadm_mail_cmd_context *cmd_readreceipt_ignore_alloc(void)
{
	return cmd_readreceipt_answer_alloc(READRECEIPT_ANSWER_IGNORE);
}

/* ---- flush */

static int
cmd_readreceipt_flush_box(struct doveadm_mail_cmd_context *ctx,
			  struct mailbox *box)
{
	struct readreceipt_flush_cmd_context *fctx =
		(struct readreceipt_flush_cmd_context *)ctx;
	struct mail_user *user =
		mail_storage_get_user(mailbox_get_storage(box));
	struct readreceipt_user *ruser = readreceipt_user_get(user);
	unsigned int sent = 0, expired = 0;
	const char *error;
	int ret = 0;

	if (readreceipt_queue_available(user) &&
	    readreceipt_decide_expire(box, ruser->set->pending_expire_secs,
				      &expired, &error) < 0) {
		i_error("Failed to expire the pending receipts of %s: %s",
			mailbox_get_vname(box), error);
		doveadm_mail_failed_error(ctx, MAIL_ERROR_TEMP);
		ret = -1;
	}
	if (!fctx->stopped &&
	    readreceipt_sender_flush_box(box, &sent, &error) < 0) {
		i_error("Failed to send the owed receipts of %s: %s",
			mailbox_get_vname(box), error);
		doveadm_mail_failed_error(ctx, MAIL_ERROR_TEMP);
		/* a batch stops at the first temporary failure */
		fctx->stopped = TRUE;
		ret = -1;
	}
	/* what went out before a failure counts */
	fctx->sent += sent;
	return ret;
}

static int
cmd_readreceipt_flush_run(struct doveadm_mail_cmd_context *ctx,
			  struct mail_user *user)
{
	struct readreceipt_flush_cmd_context *fctx =
		(struct readreceipt_flush_cmd_context *)ctx;
	struct readreceipt_user *ruser;
	int ret = 0;

	fctx->sent = 0;
	fctx->stopped = FALSE;
	if ((ruser = doveadm_readreceipt_user(ctx, user)) == NULL ||
	    !doveadm_readreceipt_queue_linked(ctx))
		return -1;
	/* a process with the current configuration: a change it sees is
	   recorded (and told) now, and open sessions follow it */
	(void)doveadm_readreceipt_sync(ruser, FALSE);
	/* owed receipts need no attribute dict: every mailbox is looked
	   at */
	ret = doveadm_readreceipt_all_boxes(ctx, user,
					    cmd_readreceipt_flush_box);
	doveadm_print_num(fctx->sent);
	return ret;
}

static void
cmd_readreceipt_flush_init(struct doveadm_mail_cmd_context *ctx,
			   const char *const args[])
{
	if (args[0] != NULL)
		doveadm_mail_help_name(doveadm_readreceipt_cmd_name(ctx));
	doveadm_print_header("sent", "sent",
			     DOVEADM_PRINT_HEADER_FLAG_RIGHT_JUSTIFY);
}
DOVEADM_READRECEIPT_INIT_DEFINE(cmd_readreceipt_flush_init)

static struct doveadm_mail_cmd_context *cmd_readreceipt_flush_alloc(void)
{
	struct readreceipt_flush_cmd_context *ctx;

	ctx = doveadm_mail_cmd_alloc(struct readreceipt_flush_cmd_context);
	ctx->ctx.v.init = DOVEADM_READRECEIPT_INIT(cmd_readreceipt_flush_init);
	ctx->ctx.v.run = cmd_readreceipt_flush_run;
	doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
	return &ctx->ctx;
}

/* ---- refresh */

static int
cmd_readreceipt_refresh_run(struct doveadm_mail_cmd_context *ctx,
			    struct mail_user *user)
{
	struct readreceipt_user *ruser;
	time_t seen;

	ruser = doveadm_readreceipt_user(ctx, user);
	if (ruser == NULL)
		return -1;
	seen = doveadm_readreceipt_sync(ruser, TRUE);
	if (seen == 0) {
		doveadm_mail_failed_error(ctx, MAIL_ERROR_TEMP);
		return -1;
	}
	doveadm_print(ruser->set->error == NULL ? "valid" : "invalid");
	doveadm_print(t_strfgmtime(DOVEADM_READRECEIPT_TIME_FORMAT, seen));
	return 0;
}

static void
cmd_readreceipt_refresh_init(struct doveadm_mail_cmd_context *ctx,
			     const char *const args[])
{
	if (args[0] != NULL)
		doveadm_mail_help_name(doveadm_readreceipt_cmd_name(ctx));
	doveadm_print_header_simple("policy");
	doveadm_print_header_simple("seen");
}
DOVEADM_READRECEIPT_INIT_DEFINE(cmd_readreceipt_refresh_init)

static struct doveadm_mail_cmd_context *cmd_readreceipt_refresh_alloc(void)
{
	struct doveadm_mail_cmd_context *ctx;

	ctx = doveadm_mail_cmd_alloc(struct doveadm_mail_cmd_context);
	ctx->v.init = DOVEADM_READRECEIPT_INIT(cmd_readreceipt_refresh_init);
	ctx->v.run = cmd_readreceipt_refresh_run;
	doveadm_print_init(DOVEADM_PRINT_TYPE_TABLE);
	return ctx;
}

static struct doveadm_cmd_ver2 doveadm_readreceipt_commands[] = {
	{
		.name = "readreceipt policy",
		.usage = DOVEADM_CMD_MAIL_USAGE_PREFIX,
		.mail_cmd = cmd_readreceipt_policy_alloc,
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_MAIL_COMMON
DOVEADM_CMD_PARAMS_END
	},
	{
		.name = "readreceipt list",
		.usage = DOVEADM_CMD_MAIL_USAGE_PREFIX "[<mailbox>]",
		.mail_cmd = cmd_readreceipt_list_alloc,
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_MAIL_COMMON
DOVEADM_CMD_PARAM('\0', "mailbox", CMD_PARAM_STR, CMD_PARAM_FLAG_POSITIONAL)
DOVEADM_CMD_PARAMS_END
	},
	{
		.name = "readreceipt send",
		.usage = "-u <user> [-S <socket_path>] <mailbox> <uid>",
		.mail_cmd = cmd_readreceipt_send_alloc,
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_MAIL_COMMON
DOVEADM_CMD_PARAM('\0', "mailbox", CMD_PARAM_STR, CMD_PARAM_FLAG_POSITIONAL)
DOVEADM_CMD_PARAM('\0', "uid", CMD_PARAM_STR, CMD_PARAM_FLAG_POSITIONAL)
DOVEADM_CMD_PARAMS_END
	},
	{
		.name = "readreceipt ignore",
		.usage = "-u <user> [-S <socket_path>] <mailbox> <uid>",
		.mail_cmd = cmd_readreceipt_ignore_alloc,
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_MAIL_COMMON
DOVEADM_CMD_PARAM('\0', "mailbox", CMD_PARAM_STR, CMD_PARAM_FLAG_POSITIONAL)
DOVEADM_CMD_PARAM('\0', "uid", CMD_PARAM_STR, CMD_PARAM_FLAG_POSITIONAL)
DOVEADM_CMD_PARAMS_END
	},
	{
		.name = "readreceipt flush",
		.usage = DOVEADM_CMD_MAIL_USAGE_PREFIX,
		.mail_cmd = cmd_readreceipt_flush_alloc,
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_MAIL_COMMON
DOVEADM_CMD_PARAMS_END
	},
	{
		.name = "readreceipt refresh",
		.usage = DOVEADM_CMD_MAIL_USAGE_PREFIX,
		.mail_cmd = cmd_readreceipt_refresh_alloc,
DOVEADM_CMD_PARAMS_START
DOVEADM_CMD_MAIL_COMMON
DOVEADM_CMD_PARAMS_END
	},
};

void doveadm_readreceipt_cmds_register(void)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(doveadm_readreceipt_commands); i++)
		doveadm_cmd_register_ver2(&doveadm_readreceipt_commands[i]);
}
