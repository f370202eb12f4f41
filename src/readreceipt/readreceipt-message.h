#ifndef READRECEIPT_MESSAGE_H
#define READRECEIPT_MESSAGE_H

/* Reading what the policy needs from a stored or delivered message. */

#include "readreceipt-names.h"
#include "readreceipt-policy.h"

struct mail;

struct readreceipt_message_info {
	/* the headers; keywords and excluded_mailbox are left to the
	   caller */
	struct readreceipt_message msg;
	const char *subject;
	const char *message_id;
	const char *original_recipient;
};

/* One message's info as read by the command that opened it, for the
   decision at the commit. */
struct readreceipt_message_read {
	uint32_t uid;
	struct readreceipt_message_info info;
};
ARRAY_DEFINE_TYPE(readreceipt_message_read, struct readreceipt_message_read);

/* Fill info_r from the headers of mail, read in one pass over its
   header; its strings are in the mail's pool. Without a
   Disposition-Notification-To header the rest is left empty. Returns
   FALSE if the header could not be read: it then counts as absent;
   callers check mail->expunged. */
bool readreceipt_message_read(struct mail *mail,
			      struct readreceipt_message_info *info_r);
/* The same, with info_r's strings in pool (to outlive the mail's
   current message). */
bool readreceipt_message_read_pool(struct mail *mail, pool_t pool,
				   struct readreceipt_message_info *info_r);

/* Fill msg_r from the message's flags and headers (strings on the data
   stack). excluded_mailbox is left FALSE: it depends on where the message
   is, which the caller knows. Exported for the Sieve module, which reads
   the message being delivered. Returns 1, or 0 if the message is gone. */
int readreceipt_message_from_mail(struct mail *mail,
				  struct readreceipt_message *msg_r);

/* TRUE if mail has keyword (compared case-insensitively). */
bool readreceipt_mail_has_keyword(struct mail *mail, const char *keyword);

#endif
