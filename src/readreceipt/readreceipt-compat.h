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

/* A core (non-plugin) setting of the running service, e.g.
   "submission_host" or "sendmail_path". NULL when this service does not
   parse that setting (pop3 has no submission settings). */
const char *
readreceipt_compat_core_setting(struct mail_user *user, const char *name);

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
