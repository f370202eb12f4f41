/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "ioloop.h"
#include "hostpid.h"
#include "net.h"
#include "istream.h"
#include "ostream.h"
#include "smtp-address.h"
#include "smtp-reply.h"
#include "smtp-client.h"
#include "smtp-client-connection.h"
#include "smtp-client-transaction.h"
#include "smtp-submit.h"
#include "mail-user.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"
#include "readreceipt-send.h"

#define READRECEIPT_SENDMAIL_PATH_DEFAULT "/usr/sbin/sendmail"
#define READRECEIPT_SMTP_PORT_DEFAULT 25
/* A last guard in case the transaction's own timeout never fires. */
#define READRECEIPT_SEND_GUARD_EXTRA_MSECS 2000

struct readreceipt_send_context {
	/* 1 = sent, 0 = permanent failure, -1 = temporary failure */
	int status;
	char *error;
	bool data_ok;
	bool finished;
};

static void
readreceipt_send_fail(struct readreceipt_send_context *ctx,
		      const struct smtp_reply *reply, const char *what)
{
	/* the first failure is the one to report */
	if (ctx->error != NULL)
		return;
	ctx->status = smtp_reply_is_temp_fail(reply) ||
		!smtp_reply_is_remote(reply) ? -1 : 0;
	ctx->error = i_strdup_printf("%s failed: %s", what,
				     smtp_reply_log(reply));
}

static void
readreceipt_send_rcpt_callback(const struct smtp_reply *reply,
			       struct readreceipt_send_context *ctx)
{
	if (!smtp_reply_is_success(reply))
		readreceipt_send_fail(ctx, reply, "RCPT TO");
}

static void
readreceipt_send_rcpt_data_callback(const struct smtp_reply *reply ATTR_UNUSED,
				    struct readreceipt_send_context *ctx ATTR_UNUSED)
{
	/* the transaction's data callback carries the result */
}

static void
readreceipt_send_data_callback(const struct smtp_reply *reply,
			       struct readreceipt_send_context *ctx)
{
	if (!smtp_reply_is_success(reply))
		readreceipt_send_fail(ctx, reply, "DATA");
	else
		ctx->data_ok = TRUE;
}

static void readreceipt_send_finished(struct readreceipt_send_context *ctx)
{
	ctx->finished = TRUE;
	io_loop_stop(current_ioloop);
}

static void readreceipt_send_guard(struct readreceipt_send_context *ctx)
{
	(void)ctx;
	io_loop_stop(current_ioloop);
}

/* Parse the normalized addresses into SMTP paths, before anything is
   set up. Returns 0, or -1 with *error_r for one that SMTP cannot take. */
static int
readreceipt_send_parse_recipients(const ARRAY_TYPE(const_string) *recipients,
				  ARRAY_TYPE(smtp_address_const) *addrs_r,
				  const char **error_r)
{
	const struct smtp_address *addr;
	struct smtp_address *parsed;
	const char *rcpt, *error;

	t_array_init(addrs_r, array_count(recipients));
	array_foreach_elem(recipients, rcpt) {
		if (smtp_address_parse_path(pool_datastack_create(),
				t_strconcat("<", rcpt, ">", NULL),
				SMTP_ADDRESS_PARSE_FLAG_ALLOW_LOCALPART,
				&parsed, &error) < 0) {
			*error_r = t_strdup_printf(
				"Invalid recipient address %s: %s", rcpt, error);
			return -1;
		}
		addr = parsed;
		array_push_back(addrs_r, &addr);
	}
	return 0;
}

static int
readreceipt_send_smtp(struct mail_user *user, const char *host_port,
		      unsigned int timeout_secs,
		      const ARRAY_TYPE(const_string) *recipients,
		      const string_t *message, const char **error_r)
{
	struct smtp_client_settings smtp_set;
	struct smtp_client *client;
	struct smtp_client_connection *conn;
	struct smtp_client_transaction *trans;
	struct readreceipt_send_context ctx;
	struct ioloop *ioloop;
	struct istream *input;
	struct timeout *to;
	ARRAY_TYPE(smtp_address_const) addrs;
	const struct smtp_address *addr;
	const char *host;
	in_port_t port;

	if (net_str2hostport(host_port, READRECEIPT_SMTP_PORT_DEFAULT,
			     &host, &port) < 0) {
		*error_r = t_strdup_printf("Invalid submission host: %s",
					   host_port);
		return -1;
	}
	if (readreceipt_send_parse_recipients(recipients, &addrs, error_r) < 0)
		return 0;

	i_zero(&smtp_set);
	smtp_set.my_hostname = my_hostname;
	smtp_set.connect_timeout_msecs = timeout_secs * 1000;
	smtp_set.command_timeout_msecs = timeout_secs * 1000;
	smtp_set.debug = user->mail_debug;
	smtp_set.event_parent = user->event;

	/* The session's ioloop waits while the receipt goes out in one of
	   its own. The transaction timeout covers the whole exchange, so a
	   relay that accepts and never answers holds the user's command no
	   longer than readreceipt_submission_timeout. */
	i_zero(&ctx);
	ctx.status = -1;
	ioloop = io_loop_create();
	client = smtp_client_init(&smtp_set);
	conn = smtp_client_connection_create(client, SMTP_PROTOCOL_SMTP,
					     host, port,
					     SMTP_CLIENT_SSL_MODE_NONE, NULL);
	/* no sender: the null reverse path of RFC 8098 §2.1 */
	trans = smtp_client_transaction_create(conn, NULL, NULL, 0,
					       readreceipt_send_finished, &ctx);
	smtp_client_connection_unref(&conn);
	smtp_client_transaction_set_timeout(trans, timeout_secs * 1000);

	array_foreach_elem(&addrs, addr) {
		(void)smtp_client_transaction_add_rcpt(trans, addr, NULL,
			readreceipt_send_rcpt_callback,
			readreceipt_send_rcpt_data_callback, &ctx);
	}

	input = i_stream_create_from_data(str_data(message), str_len(message));
	smtp_client_transaction_send(trans, input,
				     readreceipt_send_data_callback, &ctx);
	i_stream_unref(&input);

	to = timeout_add(timeout_secs * 1000 +
			 READRECEIPT_SEND_GUARD_EXTRA_MSECS,
			 readreceipt_send_guard, &ctx);
	if (!ctx.finished)
		io_loop_run(ioloop);
	timeout_remove(&to);
	if (!ctx.finished) {
		/* aborting calls our finished callback, which only records */
		smtp_client_transaction_abort(trans);
	}
	smtp_client_deinit(&client);
	io_loop_destroy(&ioloop);

	if (ctx.error != NULL) {
		*error_r = t_strdup_printf("smtp(%s): %s", host_port,
					   ctx.error);
		i_free(ctx.error);
		return ctx.status;
	}
	if (!ctx.finished || !ctx.data_ok) {
		*error_r = t_strdup_printf("smtp(%s): Timed out after %u "
					   "seconds", host_port, timeout_secs);
		return -1;
	}
	return 1;
}

static int
readreceipt_send_sendmail(struct mail_user *user, const char *sendmail_path,
			  unsigned int timeout_secs,
			  const ARRAY_TYPE(const_string) *recipients,
			  const string_t *message, const char **error_r)
{
	struct smtp_submit_settings smtp_set;
	struct smtp_submit_input input;
	struct smtp_submit *subm;
	struct ostream *output;
	ARRAY_TYPE(smtp_address_const) addrs;
	const struct smtp_address *addr;
	const char *error;
	int ret;

	if (readreceipt_send_parse_recipients(recipients, &addrs, error_r) < 0)
		return 0;

	i_zero(&smtp_set);
	smtp_set.hostname = my_hostname;
	smtp_set.mail_debug = user->mail_debug;
	smtp_set.submission_host = "";
	smtp_set.sendmail_path = sendmail_path;
	smtp_set.submission_timeout = timeout_secs;
	i_zero(&input);
	input.event_parent = user->event;

	/* the program client enforces the timeout itself */
	subm = smtp_submit_init_simple(&input, &smtp_set, NULL);
	array_foreach_elem(&addrs, addr)
		smtp_submit_add_rcpt(subm, addr);
	output = smtp_submit_send(subm);
	o_stream_nsend(output, str_data(message), str_len(message));
	ret = smtp_submit_run(subm, &error);
	smtp_submit_deinit(&subm);
	*error_r = error;
	return ret;
}

int readreceipt_send(struct mail_user *user,
		     const struct readreceipt_settings *set,
		     const ARRAY_TYPE(const_string) *recipients,
		     const string_t *message, const char **error_r)
{
	const char *host = set->submission_host;
	const char *sendmail;

	if (host == NULL || *host == '\0')
		host = readreceipt_compat_core_setting(user,
						       "submission_host");
	if (host != NULL && *host != '\0') {
		return readreceipt_send_smtp(user, host,
					     set->submission_timeout_secs,
					     recipients, message, error_r);
	}
	sendmail = readreceipt_compat_core_setting(user, "sendmail_path");
	if (sendmail == NULL || *sendmail == '\0')
		sendmail = READRECEIPT_SENDMAIL_PATH_DEFAULT;
	return readreceipt_send_sendmail(user, sendmail,
					 set->submission_timeout_secs,
					 recipients, message, error_r);
}
