#ifndef READRECEIPT_SEND_H
#define READRECEIPT_SEND_H

/* Hands a finished MDN to the relay with the null sender: to
   readreceipt_submission_host, else Dovecot's submission_host (honouring
   submission_ssl and the ssl_client_* settings), else sendmail_path.
   SMTP goes through lib-smtp's client, asynchronously from the caller's
   ioloop, bounded as a whole by readreceipt_submission_timeout. (2.3's
   smtp-submit cannot abort a transaction in flight without a panic, and
   a session that ends must be able to.) sendmail_path runs through
   smtp-submit's program client. */

struct mail_user;
struct readreceipt_relay;
struct readreceipt_send;
struct readreceipt_settings;
struct smtp_submit_settings;

/* status: 1 sent, 0 permanent failure, -1 temporary failure */
typedef void readreceipt_send_callback_t(int status, const char *error,
					 void *context);

/* A connection to the relay kept between receipts: after a send that
   succeeded it stays open for a short idle time, and the next send of the
   same user to the same relay uses it instead of connecting again (one
   transaction at a time). Anything but a clean success closes it. */
struct readreceipt_relay *readreceipt_relay_create(void);
void readreceipt_relay_free(struct readreceipt_relay **relay);
/* Close the connection now (no send may be using it). */
void readreceipt_relay_close(struct readreceipt_relay *relay);
/* Close it if it was made for user (a session that ends). */
void readreceipt_relay_forget_user(struct readreceipt_relay *relay,
				   struct mail_user *user);

/* Start sending message to recipients (normalized addresses), over
   relay's connection when relay is not NULL (from the caller's ioloop
   only). smtp_set is Dovecot's submission settings of the service, or
   NULL. The callback is always called later from the ioloop, never from
   inside this call. */
struct readreceipt_send *
readreceipt_send_start(struct readreceipt_relay *relay,
		       struct mail_user *user,
		       const struct readreceipt_settings *set,
		       const struct smtp_submit_settings *smtp_set,
		       const ARRAY_TYPE(const_string) *recipients,
		       const string_t *message,
		       readreceipt_send_callback_t *callback, void *context);
/* Stop a send in flight; its callback is not called. Only for a send
   whose result is known or no longer wanted: a relay that has the whole
   message may keep it even when it never got to say so. */
void readreceipt_send_abort(struct readreceipt_send **send);
enum readreceipt_send_end {
	/* the result is known: *status_r (and *error_r) */
	READRECEIPT_SEND_END_RESULT = 0,
	/* aborted before any of the transaction went to the relay: the
	   message may be sent again */
	READRECEIPT_SEND_END_NOT_STARTED,
	/* aborted with the relay's answer out of reach: the relay may or
	   may not have kept the message */
	READRECEIPT_SEND_END_UNKNOWN,
};
/* The caller is about to end (a session that ends) with send in flight:
   free it, after waiting for the relay's answer (in an ioloop of its
   own, within the timeout the send started with) once the transaction
   has begun, since a relay that has the whole message may keep it even
   when its reply is never read. The callback is not called. */
enum readreceipt_send_end
readreceipt_send_end(struct readreceipt_send **send, int *status_r,
		     const char **error_r);

/* The same, synchronously in an ioloop of its own. Returns the status,
   with *error_r for a failure. */
int readreceipt_send_run(struct mail_user *user,
			 const struct readreceipt_settings *set,
			 const struct smtp_submit_settings *smtp_set,
			 const ARRAY_TYPE(const_string) *recipients,
			 const string_t *message, const char **error_r);

#endif
