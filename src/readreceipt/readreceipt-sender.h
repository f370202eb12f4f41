#ifndef READRECEIPT_SENDER_H
#define READRECEIPT_SENDER_H

/* Sends owed receipts (SPEC §12). In a mail session they leave from the
   process's ioloop after the command that made them owed has its answer,
   one connection per process at a time; a session also picks up what an
   earlier process left owed, right after login. Whatever is left when the
   session ends is sent then, bounded by readreceipt_submission_timeout,
   or stays owed for the next session and doveadm readreceipt flush.
   Every step that touches the record holds the user's outbox lock; the
   network exchange never does. */

#include "readreceipt-queue.h"
#include "readreceipt-decide.h"

struct mail_user;
struct mailbox;
struct readreceipt_sender;

/* The session's sender (imap, pop3); created with the user. */
struct readreceipt_sender *readreceipt_sender_create(struct mail_user *user);
/* Send what this process still owes (bounded), then free. */
void readreceipt_sender_destroy(struct readreceipt_sender **sender);

/* Look for what earlier processes left owed, from the ioloop. */
void readreceipt_sender_start(struct readreceipt_sender *sender);
/* TRUE when nothing but a few receipts claimed by their decisions waits
   in the session and the relay is not being waited out: a receipt owed now
   starts within moments, behind those and the one receipt the process may
   have in flight, so its decision may claim it
   (readreceipt_decide_allow_claim). */
bool readreceipt_sender_can_claim(const struct readreceipt_sender *sender);
/* The decision in box claimed these receipts: send them as built, from
   the ioloop. */
void readreceipt_sender_add_claims(struct readreceipt_sender *sender,
				   struct mailbox *box,
				   const ARRAY_TYPE(readreceipt_claim) *claims);
/* The receipts of uids in box became owed: send them from the ioloop. */
void readreceipt_sender_add(struct readreceipt_sender *sender,
			    struct mailbox *box,
			    const ARRAY_TYPE(uint32_t) *uids);

/* The session allocated box (an instance the module watches): while it
   is open, the sender reads and writes records of that mailbox in it.
   Freed: the sender stops using it. */
void readreceipt_sender_box_allocated(struct readreceipt_sender *sender,
				      struct mailbox *box);
void readreceipt_sender_box_freed(struct readreceipt_sender *sender,
				  struct mailbox *box);

/* Send, now and synchronously, every owed receipt of box (doveadm).
   Stops at the first temporary failure. *sent_r counts receipts sent.
   Returns 0, or -1 with *error_r when something was left owed by a
   temporary failure. */
int readreceipt_sender_flush_box(struct mailbox *box, unsigned int *sent_r,
				 const char **error_r);
/* The same for one message (doveadm readreceipt send). Returns 1 when it
   was sent (or had been already), -1 with *error_r when it failed; a
   temporary failure leaves it owed. */
int readreceipt_sender_send_uid(struct mailbox *box, uint32_t uid,
				const char **error_r);

/* Append the owed receipts of box as doveadm readreceipt list shows
   them: reason "owed", "sending", "retry" or "rate_limited", since the
   time of the last change. Strings from pool. Returns how many are
   owed. */
int readreceipt_sender_list_box(struct mailbox *box, pool_t pool,
				ARRAY_TYPE(readreceipt_pending_entry) *entries);

#endif
