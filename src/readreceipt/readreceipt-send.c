/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "ioloop.h"
#include "hostpid.h"
#include "ostream.h"
#include "smtp-address.h"
#include "smtp-submit.h"
#include "mail-user.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"
#include "readreceipt-send.h"

#define READRECEIPT_SENDMAIL_PATH_DEFAULT "/usr/sbin/sendmail"

struct readreceipt_send_context {
	int status;
	char *error;
	bool finished;
};

static void
readreceipt_send_callback(const struct smtp_submit_result *result,
			  struct readreceipt_send_context *ctx)
{
	ctx->status = result->status;
	ctx->error = i_strdup(result->error);
	ctx->finished = TRUE;
	io_loop_stop(current_ioloop);
}

static void readreceipt_send_timeout(struct readreceipt_send_context *ctx)
{
	io_loop_stop(current_ioloop);
	(void)ctx;
}

static void
readreceipt_send_settings(struct mail_user *user,
			  const struct readreceipt_settings *set,
			  struct smtp_submit_settings *smtp_set_r)
{
	const char *host = set->submission_host;
	const char *sendmail;

	if (host == NULL)
		host = readreceipt_compat_core_setting(user,
						       "submission_host");
	sendmail = readreceipt_compat_core_setting(user, "sendmail_path");
	if (sendmail == NULL || *sendmail == '\0')
		sendmail = READRECEIPT_SENDMAIL_PATH_DEFAULT;

	i_zero(smtp_set_r);
	smtp_set_r->hostname = my_hostname;
	smtp_set_r->mail_debug = user->mail_debug;
	smtp_set_r->submission_host = host == NULL ? "" : host;
	smtp_set_r->sendmail_path = sendmail;
	smtp_set_r->submission_timeout = set->submission_timeout_secs;
	smtp_set_r->submission_ssl = "no";
}

int readreceipt_send(struct mail_user *user,
		     const struct readreceipt_settings *set,
		     const ARRAY_TYPE(const_string) *recipients,
		     const string_t *message, const char **error_r)
{
	struct smtp_submit_settings smtp_set;
	struct smtp_submit_input input;
	struct readreceipt_send_context ctx;
	struct smtp_submit *subm;
	struct ostream *output;
	struct ioloop *prev_ioloop = current_ioloop, *ioloop;
	struct timeout *to;
	const char *rcpt, *error;

	readreceipt_send_settings(user, set, &smtp_set);
	i_zero(&input);
	input.event_parent = user->event;

	/* The caller's ioloop keeps running the session; the send gets its
	   own, with a timeout over the whole transaction so that a relay
	   that accepts and never answers cannot hold the user's command
	   longer than readreceipt_submission_timeout. */
	ioloop = io_loop_create();
	subm = smtp_submit_init_simple(&input, &smtp_set, NULL);
	array_foreach_elem(recipients, rcpt) {
		struct smtp_address *addr;

		if (smtp_address_parse_path(pool_datastack_create(),
					    t_strconcat("<", rcpt, ">", NULL),
					    SMTP_ADDRESS_PARSE_FLAG_ALLOW_LOCALPART |
					    SMTP_ADDRESS_PARSE_FLAG_BRACKETS_OPTIONAL,
					    &addr, &error) < 0) {
			smtp_submit_deinit(&subm);
			io_loop_destroy(&ioloop);
			io_loop_set_current(prev_ioloop);
			*error_r = t_strdup_printf(
				"Invalid recipient address %s: %s", rcpt, error);
			return 0;
		}
		smtp_submit_add_rcpt(subm, addr);
	}
	output = smtp_submit_send(subm);
	o_stream_nsend(output, str_data(message), str_len(message));

	i_zero(&ctx);
	io_loop_set_running(ioloop);
	smtp_submit_run_async(subm, readreceipt_send_callback, &ctx);
	to = timeout_add(set->submission_timeout_secs * 1000,
			 readreceipt_send_timeout, &ctx);
	if (!ctx.finished)
		io_loop_run(ioloop);
	timeout_remove(&to);
	/* deinit aborts a transaction that is still running */
	smtp_submit_deinit(&subm);
	io_loop_destroy(&ioloop);
	if (current_ioloop != prev_ioloop && prev_ioloop != NULL)
		io_loop_set_current(prev_ioloop);

	if (!ctx.finished) {
		*error_r = t_strdup_printf(
			"Timed out after %u seconds talking to %s",
			set->submission_timeout_secs,
			smtp_set.submission_host[0] != '\0' ?
			smtp_set.submission_host : smtp_set.sendmail_path);
		return -1;
	}
	*error_r = t_strdup(ctx.error == NULL ? "" : ctx.error);
	i_free(ctx.error);
	return ctx.status > 0 ? 1 : ctx.status;
}
