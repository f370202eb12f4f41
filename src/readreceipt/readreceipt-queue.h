#ifndef READRECEIPT_QUEUE_H
#define READRECEIPT_QUEUE_H

/* The pending queue (SPEC §6): private METADATA entries of the message's
   mailbox, and what happens when they are answered or retried. Exported
   for the doveadm module. */

#include "readreceipt-pending.h"

struct mail_user;
struct mailbox;

struct readreceipt_pending_entry {
	uint32_t uid;
	struct readreceipt_pending pending;
};
ARRAY_DEFINE_TYPE(readreceipt_pending_entry, struct readreceipt_pending_entry);

enum readreceipt_queue_trigger {
	/* a client or doveadm answered an entry */
	READRECEIPT_QUEUE_TRIGGER_ANSWER = 0,
	/* doveadm readreceipt flush, or the next commit in the mailbox */
	READRECEIPT_QUEUE_TRIGGER_FLUSH,
};

/* TRUE when the user has a mail_attribute_dict, so entries can be kept. */
bool readreceipt_queue_available(struct mail_user *user);

/* Write (or replace) the entry of uid. Returns 0, or -1 with *error_r. */
int readreceipt_queue_add(struct mailbox *box, uint32_t uid,
			  const struct readreceipt_pending *pending,
			  const char **error_r);
/* Remove the entry of uid; a missing entry is not an error. */
int readreceipt_queue_remove(struct mailbox *box, uint32_t uid,
			     const char **error_r);
/* Append every entry of the mailbox, sorted by UID; strings come from
   pool, which must not be a data stack pool. Values that are not entries
   (an answer not acted on yet, a damaged value) are skipped. */
int readreceipt_queue_list(struct mailbox *box, pool_t pool,
			   ARRAY_TYPE(readreceipt_pending_entry) *entries,
			   const char **error_r);

/* Act on an answer for the message uid: SEND sends
   manual-action/MDN-sent-manually under the user's policy, then sets
   $MDNSent; IGNORE only sets $MDNSent. The entry (if any) is removed when
   done; a temporary send failure keeps it, with reason retry. Emits the
   readreceipt_decision event.
   Returns 1 when done, 0 if the message does not exist or does not ask
   for a receipt (*error_r says which), -1 on failure (*error_r). */
int readreceipt_queue_answer(struct mailbox *box, uint32_t uid,
			     enum readreceipt_answer answer,
			     enum readreceipt_queue_trigger trigger,
			     const char **error_r);

/* Send what waits with reason retry or rate_limited in this mailbox.
   *sent_r counts receipts sent. Returns 0, or -1 with *error_r. */
int readreceipt_queue_flush(struct mailbox *box, unsigned int *sent_r,
			    const char **error_r);

#endif
