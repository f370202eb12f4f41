#ifndef READRECEIPT_COMPAT_H
#define READRECEIPT_COMPAT_H

/* Everything that differs between Dovecot 2.3 and 2.4 is reached through
   this header, so a port touches one place. */

#include "mail-user.h"

/* The value of a readreceipt_* setting: plugin {} overridden by the
   userdb extra field of the same name. */
static inline const char *
readreceipt_compat_setting(struct mail_user *user, const char *name)
{
	return mail_user_plugin_getenv(user, name);
}

struct smtp_submit_settings;

/* Dovecot's submission settings as this service parses them
   (submission_host, submission_ssl, sendmail_path, ...), %variables
   expanded, copied into pool. Call it while the user is created. NULL
   when the service has none (pop3, doveadm). */
const struct smtp_submit_settings *
readreceipt_compat_smtp_submit_settings(struct mail_user *user, pool_t pool);

/* The ENABLE callback given to imap_feature_register() (imap module only).
   Dovecot 2.3 has no way to refuse an ENABLE: the callback returns void.
   Newer versions return bool, FALSE = not enabled for this client.
	static READRECEIPT_COMPAT_ENABLE_RET
	callback(struct client *client)
	{
		...
		READRECEIPT_COMPAT_ENABLE_RETURN(accepted);
	} */
#if DOVECOT_PREREQ(2, 4, 0)
#  define READRECEIPT_COMPAT_ENABLE_RET bool
#  define READRECEIPT_COMPAT_ENABLE_RETURN(accepted) return (accepted)
#else
#  define READRECEIPT_COMPAT_ENABLE_RET void
#  define READRECEIPT_COMPAT_ENABLE_RETURN(accepted) (void)(accepted)
#endif

#endif
