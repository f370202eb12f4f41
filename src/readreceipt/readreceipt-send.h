#ifndef READRECEIPT_SEND_H
#define READRECEIPT_SEND_H

/* Sends a finished MDN with the null sender: to
   readreceipt_submission_host, else Dovecot's submission_host, else
   sendmail_path. Synchronous, bounded by readreceipt_submission_timeout. */

struct mail_user;
struct readreceipt_settings;

/* Returns 1 when sent, 0 on permanent failure (5xx), -1 on temporary
   failure (relay down, timeout, 4xx). */
int readreceipt_send(struct mail_user *user,
		     const struct readreceipt_settings *set,
		     const ARRAY_TYPE(const_string) *recipients,
		     const string_t *message, const char **error_r);

#endif
