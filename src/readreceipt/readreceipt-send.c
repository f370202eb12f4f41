/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "str-sanitize.h"
#include "ioloop.h"
#include "hostpid.h"
#include "net.h"
#include "istream.h"
#include "ostream.h"
#include "iostream-ssl.h"
#include "smtp-address.h"
#include "smtp-reply.h"
#include "smtp-client.h"
#include "smtp-client-connection.h"
#include "smtp-client-transaction.h"
#include "smtp-submit.h"
#include "smtp-submit-settings.h"
#include "mail-user.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"
#include "readreceipt-mdn.h"
#include "readreceipt-send.h"

#define READRECEIPT_SENDMAIL_PATH_DEFAULT "/usr/sbin/sendmail"
#define READRECEIPT_SMTP_PORT_DEFAULT 25

struct readreceipt_send {
	pool_t pool;
	struct smtp_client *client;
	struct smtp_client_connection *conn;
	struct smtp_client_transaction *trans;
	struct timeout *to_callback;

	readreceipt_send_callback_t *callback;
	void *context;

	/* 1 = sent, 0 = permanent failure, -1 = temporary failure */
	int status;
	const char *error;
	const char *host;
	bool data_ok:1;
	bool aborted:1;
};

/* The normalized addresses as SMTP paths, before anything is set up.
   Returns 0, or -1 with *error_r for one that SMTP cannot take. */
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
		if (readreceipt_mdn_smtp_address(pool_datastack_create(), rcpt,
						 &parsed, &error) < 0) {
			*error_r = t_strdup_printf(
				"Invalid recipient address %s: %s",
				str_sanitize(rcpt, 256), error);
			return -1;
		}
		addr = parsed;
		array_push_back(addrs_r, &addr);
	}
	return 0;
}

static void readreceipt_send_callback(struct readreceipt_send *send)
{
	timeout_remove(&send->to_callback);
	send->callback(send->status, send->error, send->context);
}

/* Report the result from the ioloop: the callback may free the send. */
static void readreceipt_send_finish_later(struct readreceipt_send *send)
{
	if (send->to_callback == NULL && !send->aborted) {
		send->to_callback = timeout_add_short(0,
			readreceipt_send_callback, send);
	}
}

static void
readreceipt_send_fail(struct readreceipt_send *send, int status,
		      const char *error)
{
	/* the first failure is the one to report */
	if (send->error != NULL)
		return;
	send->status = status;
	send->error = p_strdup(send->pool, error);
}

static void
readreceipt_send_reply_fail(struct readreceipt_send *send,
			    const struct smtp_reply *reply, const char *what)
{
	readreceipt_send_fail(send, smtp_reply_is_temp_fail(reply) ||
			      !smtp_reply_is_remote(reply) ? -1 : 0,
			      t_strdup_printf("smtp(%s): %s failed: %s",
					      send->host, what,
					      smtp_reply_log(reply)));
}

static void
readreceipt_send_rcpt_callback(const struct smtp_reply *reply,
			       struct readreceipt_send *send)
{
	if (!smtp_reply_is_success(reply))
		readreceipt_send_reply_fail(send, reply, "RCPT TO");
}

static void
readreceipt_send_rcpt_data_callback(const struct smtp_reply *reply ATTR_UNUSED,
				    struct readreceipt_send *send ATTR_UNUSED)
{
	/* the transaction's data callback carries the result */
}

static void
readreceipt_send_data_callback(const struct smtp_reply *reply,
			       struct readreceipt_send *send)
{
	if (!smtp_reply_is_success(reply))
		readreceipt_send_reply_fail(send, reply, "DATA");
	else
		send->data_ok = TRUE;
}

static void readreceipt_send_finished(struct readreceipt_send *send)
{
	send->trans = NULL;
	if (send->error == NULL && send->data_ok)
		send->status = 1;
	else if (send->error == NULL) {
		readreceipt_send_fail(send, -1, t_strdup_printf(
			"smtp(%s): Failed without a reply", send->host));
	}
	readreceipt_send_finish_later(send);
}

static enum smtp_client_connection_ssl_mode
readreceipt_send_ssl_mode(const struct smtp_submit_settings *smtp_set)
{
	const char *ssl = smtp_set == NULL ? NULL : smtp_set->submission_ssl;

	/* the values Dovecot's submission_ssl takes */
	if (ssl == NULL)
		return SMTP_CLIENT_SSL_MODE_NONE;
	if (strcasecmp(ssl, "smtps") == 0 ||
	    strcasecmp(ssl, "submissions") == 0)
		return SMTP_CLIENT_SSL_MODE_IMMEDIATE;
	if (strcasecmp(ssl, "starttls") == 0)
		return SMTP_CLIENT_SSL_MODE_STARTTLS;
	return SMTP_CLIENT_SSL_MODE_NONE;
}

static void
readreceipt_send_smtp(struct readreceipt_send *send, struct mail_user *user,
		      const struct readreceipt_settings *set,
		      const struct smtp_submit_settings *smtp_set,
		      const char *host_port,
		      const ARRAY_TYPE(smtp_address_const) *addrs,
		      const string_t *message)
{
	unsigned int timeout_msecs = set->submission_timeout_secs * 1000;
	struct smtp_client_settings client_set;
	struct ssl_iostream_settings ssl_set;
	struct smtp_client_connection *conn;
	const struct smtp_address *addr;
	struct istream *input;
	const char *host;
	in_port_t port;

	send->host = p_strdup(send->pool, host_port);
	if (net_str2hostport(host_port, READRECEIPT_SMTP_PORT_DEFAULT,
			     &host, &port) < 0) {
		readreceipt_send_fail(send, -1, t_strdup_printf(
			"Invalid submission host: %s", host_port));
		readreceipt_send_finish_later(send);
		return;
	}

	i_zero(&client_set);
	client_set.my_hostname = my_hostname;
	client_set.connect_timeout_msecs = timeout_msecs;
	client_set.command_timeout_msecs = timeout_msecs;
	client_set.debug = readreceipt_compat_user_debug(user);
	client_set.ssl = readreceipt_compat_ssl_client_settings(user,
								&ssl_set);
	client_set.event_parent = user->event;

	send->client = smtp_client_init(&client_set);
	conn = smtp_client_connection_create(send->client, SMTP_PROTOCOL_SMTP,
		host, port, readreceipt_send_ssl_mode(smtp_set), NULL);
	/* no sender: the null reverse path of RFC 8098 §2.1 */
	send->trans = smtp_client_transaction_create(conn, NULL, NULL, 0,
		readreceipt_send_finished, send);
	/* kept, so that a send in flight can move to another ioloop even
	   before the connection is listed by the client */
	send->conn = conn;
	/* the whole exchange, so a relay that accepts and never answers
	   costs no more than readreceipt_submission_timeout */
	smtp_client_transaction_set_timeout(send->trans, timeout_msecs);
	array_foreach_elem(addrs, addr) {
		(void)smtp_client_transaction_add_rcpt(send->trans, addr, NULL,
			readreceipt_send_rcpt_callback,
			readreceipt_send_rcpt_data_callback, send);
	}
	input = i_stream_create_copy_from_data(str_data(message),
					       str_len(message));
	smtp_client_transaction_send(send->trans, input,
				     readreceipt_send_data_callback, send);
	i_stream_unref(&input);
}

/* sendmail_path: a local program, run to completion (bounded by the
   timeout) by smtp-submit. */
static void
readreceipt_send_sendmail(struct readreceipt_send *send,
			  struct mail_user *user,
			  const struct readreceipt_settings *set,
			  const struct smtp_submit_settings *smtp_set,
			  const ARRAY_TYPE(smtp_address_const) *addrs,
			  const string_t *message)
{
	struct smtp_submit_settings submit_set;
	struct smtp_submit_input input;
	const struct smtp_address *addr;
	struct smtp_submit *subm;
	struct ostream *output;
	const char *error;
	int ret;

	i_zero(&submit_set);
	submit_set.hostname = my_hostname;
	submit_set.mail_debug = readreceipt_compat_user_debug(user);
	submit_set.submission_host = "";
	submit_set.sendmail_path = smtp_set != NULL &&
		smtp_set->sendmail_path != NULL &&
		smtp_set->sendmail_path[0] != '\0' ?
		smtp_set->sendmail_path : READRECEIPT_SENDMAIL_PATH_DEFAULT;
	submit_set.submission_timeout = set->submission_timeout_secs;
	i_zero(&input);
	input.event_parent = user->event;

	subm = smtp_submit_init_simple(&input, &submit_set, NULL);
	array_foreach_elem(addrs, addr)
		smtp_submit_add_rcpt(subm, addr);
	output = smtp_submit_send(subm);
	o_stream_nsend(output, str_data(message), str_len(message));
	ret = smtp_submit_run(subm, &error);
	if (ret > 0)
		send->status = 1;
	else
		readreceipt_send_fail(send, ret, error);
	smtp_submit_deinit(&subm);
	readreceipt_send_finish_later(send);
}

struct readreceipt_send *
readreceipt_send_start(struct mail_user *user,
		       const struct readreceipt_settings *set,
		       const struct smtp_submit_settings *smtp_set,
		       const ARRAY_TYPE(const_string) *recipients,
		       const string_t *message,
		       readreceipt_send_callback_t *callback, void *context)
{
	ARRAY_TYPE(smtp_address_const) addrs;
	struct readreceipt_send *send;
	const char *host = set->submission_host, *error;
	pool_t pool;

	pool = pool_alloconly_create("readreceipt send", 512);
	send = p_new(pool, struct readreceipt_send, 1);
	send->pool = pool;
	send->callback = callback;
	send->context = context;
	send->status = -1;

	if (host == NULL || host[0] == '\0')
		host = smtp_set == NULL ? NULL : smtp_set->submission_host;
	if (readreceipt_send_parse_recipients(recipients, &addrs,
					      &error) < 0) {
		readreceipt_send_fail(send, 0, error);
		readreceipt_send_finish_later(send);
	} else if (host != NULL && host[0] != '\0') {
		readreceipt_send_smtp(send, user, set, smtp_set, host, &addrs,
				      message);
	} else {
		readreceipt_send_sendmail(send, user, set, smtp_set, &addrs,
					  message);
	}
	return send;
}

void readreceipt_send_abort(struct readreceipt_send **_send)
{
	struct readreceipt_send *send = *_send;

	*_send = NULL;
	send->aborted = TRUE;
	timeout_remove(&send->to_callback);
	if (send->trans != NULL) {
		/* our finished callback only records */
		smtp_client_transaction_abort(send->trans);
	}
	if (send->conn != NULL)
		smtp_client_connection_unref(&send->conn);
	if (send->client != NULL)
		smtp_client_deinit(&send->client);
	pool_unref(&send->pool);
}

struct readreceipt_send_run_context {
	int status;
	char *error;
};

static void
readreceipt_send_run_callback(int status, const char *error,
			      struct readreceipt_send_run_context *rctx)
{
	rctx->status = status;
	rctx->error = i_strdup(error);
	io_loop_stop(current_ioloop);
}

enum readreceipt_send_end
readreceipt_send_end(struct readreceipt_send **_send, int *status_r,
		     const char **error_r)
{
	struct readreceipt_send *send = *_send;
	struct readreceipt_send_run_context rctx;
	enum readreceipt_send_end ret = READRECEIPT_SEND_END_RESULT;
	struct ioloop *ioloop;

	*error_r = NULL;
	if (send->to_callback != NULL) {
		/* the result is in */
		*status_r = send->status;
		*error_r = t_strdup(send->error);
		readreceipt_send_abort(_send);
		return READRECEIPT_SEND_END_RESULT;
	}
	if (send->trans != NULL &&
	    smtp_client_transaction_get_state(send->trans) <=
	    SMTP_CLIENT_TRANSACTION_STATE_PENDING) {
		/* nothing of the transaction reached the relay yet */
		readreceipt_send_abort(_send);
		return READRECEIPT_SEND_END_NOT_STARTED;
	}

	i_zero(&rctx);
	send->callback = (readreceipt_send_callback_t *)
		readreceipt_send_run_callback;
	send->context = &rctx;
	/* the relay has (some of) the message: its answer is awaited in an
	   ioloop of our own (the caller's is not run from here), still
	   bounded by the transaction's timeout */
	ioloop = io_loop_create();
	/* the client's only connection, with its transaction */
	if (send->conn != NULL)
		smtp_client_connection_switch_ioloop(send->conn);
	if (io_loop_is_empty(ioloop)) {
		/* nothing to wait for here: what became of it is unknown */
		ret = READRECEIPT_SEND_END_UNKNOWN;
	} else {
		io_loop_run(ioloop);
		*status_r = rctx.status;
		*error_r = t_strdup(rctx.error);
	}
	readreceipt_send_abort(_send);
	io_loop_destroy(&ioloop);
	i_free(rctx.error);
	return ret;
}

int readreceipt_send_run(struct mail_user *user,
			 const struct readreceipt_settings *set,
			 const struct smtp_submit_settings *smtp_set,
			 const ARRAY_TYPE(const_string) *recipients,
			 const string_t *message, const char **error_r)
{
	struct readreceipt_send_run_context rctx;
	struct readreceipt_send *send;
	struct ioloop *ioloop;

	i_zero(&rctx);
	ioloop = io_loop_create();
	send = readreceipt_send_start(user, set, smtp_set, recipients, message,
		(readreceipt_send_callback_t *)readreceipt_send_run_callback,
		&rctx);
	io_loop_run(ioloop);
	readreceipt_send_abort(&send);
	io_loop_destroy(&ioloop);

	*error_r = t_strdup(rctx.error);
	i_free(rctx.error);
	return rctx.status;
}
