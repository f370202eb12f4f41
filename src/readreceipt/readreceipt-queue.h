#ifndef READRECEIPT_QUEUE_H
#define READRECEIPT_QUEUE_H

/* The pending queue's storage (SPEC §6): private METADATA entries of the
   message's mailbox, one per prompt that waits for the user. Writes go
   into the caller's transaction, so an entry appears and disappears with
   the flag and record changes that go with it. Exported for the doveadm
   module. */

#include "readreceipt-pending.h"

struct mail_user;
struct mailbox;
struct mailbox_transaction_context;

struct readreceipt_pending_entry {
	uint32_t uid;
	struct readreceipt_pending pending;
};
ARRAY_DEFINE_TYPE(readreceipt_pending_entry, struct readreceipt_pending_entry);

/* TRUE when the user has a mail_attribute_dict, so entries can be kept. */
bool readreceipt_queue_available(struct mail_user *user);

/* Write (or replace) the entry of uid in t. The caller has marked the
   user busy, so that the module does not take its own write for an
   answer. Returns 0, or -1 with *error_r. */
int readreceipt_queue_set(struct mailbox_transaction_context *t, uint32_t uid,
			  const struct readreceipt_pending *pending,
			  const char **error_r);
/* Remove the entry of uid in t; a missing entry is not an error. */
int readreceipt_queue_unset(struct mailbox_transaction_context *t,
			    uint32_t uid, const char **error_r);
/* Append every entry of the mailbox, sorted by UID; strings come from
   pool, which must not be a data stack pool. Values that are not entries
   (damaged) are skipped. */
int readreceipt_queue_list(struct mailbox *box, pool_t pool,
			   ARRAY_TYPE(readreceipt_pending_entry) *entries,
			   const char **error_r);

#endif
