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
/* how long an idle connection to the relay is kept for the next receipt:
   as an MTA's connection cache does, far below the five minutes a server
   waits for a client (RFC 5321 §4.5.3.2.7) */
#define READRECEIPT_RELAY_IDLE_MSECS 2000

struct readreceipt_relay {
	/* what the connection was made for */
	struct mail_user *user;
	char *host_port;
	enum smtp_client_connection_ssl_mode ssl_mode;
	unsigned int timeout_msecs;

	struct smtp_client *client;
	struct smtp_client_connection *conn;
	struct timeout *to_idle;
	/* a send is using the connection */
	bool busy:1;
};

struct readreceipt_send {
	pool_t pool;
	/* the connection is the relay's, kept after a successful send */
	struct readreceipt_relay *relay;
	/* or the send's own */
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
	/* the connection may not be used again */
	bool drop_conn:1;
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

/* ---- the connection kept between receipts */

struct readreceipt_relay *readreceipt_relay_create(void)
{
	return i_new(struct readreceipt_relay, 1);
}

void readreceipt_relay_close(struct readreceipt_relay *relay)
{
	i_assert(!relay->busy);
	timeout_remove(&relay->to_idle);
	/* sends QUIT without waiting for its reply */
	if (relay->conn != NULL)
		smtp_client_connection_close(&relay->conn);
	if (relay->client != NULL)
		smtp_client_deinit(&relay->client);
	i_free(relay->host_port);
	relay->user = NULL;
}

void readreceipt_relay_forget_user(struct readreceipt_relay *relay,
				   struct mail_user *user)
{
	if (relay->user == user)
		readreceipt_relay_close(relay);
}

void readreceipt_relay_free(struct readreceipt_relay **_relay)
{
	struct readreceipt_relay *relay = *_relay;

	*_relay = NULL;
	readreceipt_relay_close(relay);
	i_free(relay);
}

static bool
readreceipt_relay_match(const struct readreceipt_relay *relay,
			struct mail_user *user, const char *host_port,
			enum smtp_client_connection_ssl_mode ssl_mode,
			unsigned int timeout_msecs)
{
	/* a connection the relay closed meanwhile is not reused: a fresh
	   one starts from a known state */
	return relay->conn != NULL && relay->user == user &&
		smtp_client_connection_get_state(relay->conn) ==
		SMTP_CLIENT_CONNECTION_STATE_READY &&
		strcmp(relay->host_port, host_port) == 0 &&
		relay->ssl_mode == ssl_mode &&
		relay->timeout_msecs == timeout_msecs;
}

static void
readreceipt_relay_set(struct readreceipt_relay *relay, struct mail_user *user,
		      const char *host_port,
		      enum smtp_client_connection_ssl_mode ssl_mode,
		      unsigned int timeout_msecs, struct smtp_client *client,
		      struct smtp_client_connection *conn)
{
	i_assert(relay->conn == NULL);
	relay->user = user;
	relay->host_port = i_strdup(host_port);
	relay->ssl_mode = ssl_mode;
	relay->timeout_msecs = timeout_msecs;
	relay->client = client;
	relay->conn = conn;
}

/* The send is over: keep the connection for the next receipt only after
   a clean success; anything else may have left it in an unknown state. */
static void readreceipt_relay_release(struct readreceipt_relay *relay,
				      bool reusable)
{
	relay->busy = FALSE;
	if (!reusable)
		readreceipt_relay_close(relay);
	else if (relay->conn != NULL && relay->to_idle == NULL) {
		relay->to_idle = timeout_add(READRECEIPT_RELAY_IDLE_MSECS,
					     readreceipt_relay_close, relay);
	}
}

static void
readreceipt_send_smtp(struct readreceipt_send *send,
		      struct readreceipt_relay *relay, struct mail_user *user,
		      const struct readreceipt_settings *set,
		      const struct smtp_submit_settings *smtp_set,
		      const char *host_port,
		      const ARRAY_TYPE(smtp_address_const) *addrs,
		      const string_t *message)
{
	unsigned int timeout_msecs = set->submission_timeout_secs * 1000;
	struct smtp_client_settings client_set;
	enum smtp_client_connection_ssl_mode ssl_mode =
		readreceipt_send_ssl_mode(smtp_set);
	struct ssl_iostream_settings ssl_set;
	struct smtp_client_connection *conn;
	struct smtp_client *client;
	const struct smtp_address *addr;
	struct istream *input;
	const char *host;
	in_port_t port;

	/* only SMTP has a connection to keep */
	send->relay = relay;
	send->host = p_strdup(send->pool, host_port);
	if (net_str2hostport(host_port, READRECEIPT_SMTP_PORT_DEFAULT,
			     &host, &port) < 0) {
		readreceipt_send_fail(send, -1, t_strdup_printf(
			"Invalid submission host: %s", host_port));
		readreceipt_send_finish_later(send);
		return;
	}

	if (send->relay != NULL &&
	    readreceipt_relay_match(send->relay, user, host_port,
				    ssl_mode, timeout_msecs)) {
		/* the connection of the previous receipt */
		timeout_remove(&send->relay->to_idle);
		conn = send->relay->conn;
		e_debug(send->relay->user->event,
			"readreceipt: Reusing the connection to %s", host_port);
	} else {
		if (send->relay != NULL)
			readreceipt_relay_close(send->relay);
		i_zero(&client_set);
		client_set.my_hostname = my_hostname;
		client_set.connect_timeout_msecs = timeout_msecs;
		client_set.command_timeout_msecs = timeout_msecs;
		client_set.debug = readreceipt_compat_user_debug(user);
		client_set.ssl = readreceipt_compat_ssl_client_settings(user,
								&ssl_set);
		client_set.event_parent = user->event;

		client = smtp_client_init(&client_set);
		conn = smtp_client_connection_create(client,
			SMTP_PROTOCOL_SMTP, host, port, ssl_mode, NULL);
		if (send->relay == NULL)
			send->client = client;
		else {
			readreceipt_relay_set(send->relay, user, host_port,
					      ssl_mode, timeout_msecs,
					      client, conn);
		}
	}
	if (send->relay != NULL) {
		send->relay->busy = TRUE;
		smtp_client_connection_ref(conn);
	}
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
readreceipt_send_start(struct readreceipt_relay *relay,
		       struct mail_user *user,
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
		readreceipt_send_smtp(send, relay, user, set, smtp_set, host,
				      &addrs, message);
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
		send->drop_conn = TRUE;
	}
	if (send->conn != NULL)
		smtp_client_connection_unref(&send->conn);
	if (send->client != NULL)
		smtp_client_deinit(&send->client);
	if (send->relay != NULL) {
		readreceipt_relay_release(send->relay,
			send->status == 1 && !send->drop_conn);
	}
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
	/* the client's only connection, with its transaction; it stays
	   in that ioloop, so it is not kept for another receipt */
	if (send->conn != NULL)
		smtp_client_connection_switch_ioloop(send->conn);
	send->drop_conn = TRUE;
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
	send = readreceipt_send_start(NULL, user, set, smtp_set, recipients,
				      message,
		(readreceipt_send_callback_t *)readreceipt_send_run_callback,
		&rctx);
	io_loop_run(ioloop);
	readreceipt_send_abort(&send);
	io_loop_destroy(&ioloop);

	*error_r = t_strdup(rctx.error);
	i_free(rctx.error);
	return rctx.status;
}
