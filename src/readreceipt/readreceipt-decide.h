#ifndef READRECEIPT_DECIDE_H
#define READRECEIPT_DECIDE_H

/* What a transaction's changes mean for receipts, decided before it
   commits and written into it (SPEC §4, §6, §12): a receipt that is owed
   gets its record and $MDNSent in the very transaction that set \Seen; a
   prompt gets its METADATA entry; an answer turns an entry into an owed
   receipt or into $MDNSent. Deciding takes the user's outbox lock only
   when a record or entry is written, and holds it until the commit, so
   that two sessions never both owe one receipt. Events are emitted once
   the transaction committed. Nothing here touches the network. */

#include "readreceipt-pending.h"
#include "readreceipt-event.h"
#include "readreceipt-message.h"

struct mailbox;
struct mailbox_transaction_context;
struct readreceipt_decide;

/* A receipt claimed by the decision itself: its record is written as
   being sent (since stamp) in the transaction that set \Seen, and its MDN
   is built from the header the decision read, so that the sender needs
   neither the lock nor the message again if it starts at once. */
struct readreceipt_claim {
	uint32_t uid;
	/* the record's stamp, and the exact moment of the claim */
	time_t stamp;
	struct timeval claimed_at;
	enum readreceipt_trigger trigger;
	/* for the event */
	const char *reason;
	const char *message_id;
	const char *recipient;
	/* the receipt and its envelope recipients */
	string_t *mdn;
	ARRAY_TYPE(const_string) recipients;
};
ARRAY_DEFINE_TYPE(readreceipt_claim, struct readreceipt_claim);

/* Start deciding for t (which the module watches). */
struct readreceipt_decide *
readreceipt_decide_begin(struct mailbox_transaction_context *t);

/* The first receipt this transaction owes may be claimed at once: the
   session sends from its ioloop right after the command and nothing is
   queued before it. */
void readreceipt_decide_allow_claim(struct readreceipt_decide *dec);

/* Messages that newly got \Seen in t: uids holds at most seen_count UIDs;
   more than readreceipt_bulk_limit in an IMAP session is "mark as read":
   one event and not a single header read. read (or NULL): the info of
   some of them (in the order of uids) as already read from the
   command's own mail. */
void readreceipt_decide_seen(struct readreceipt_decide *dec,
			     const ARRAY_TYPE(uint32_t) *uids,
			     unsigned int seen_count,
			     const ARRAY_TYPE(readreceipt_message_read) *read);
/* An answer to the receipt of uid (client SETMETADATA or doveadm).
   Returns 1 when it was applied, 0 if the message does not exist or asks
   for no receipt that may be sent, -1 on error; *error_r says why. */
int readreceipt_decide_answer(struct readreceipt_decide *dec, uint32_t uid,
			      enum readreceipt_answer answer,
			      enum readreceipt_trigger trigger,
			      const char **error_r);
/* The client set $MDNSent on uid itself: a pending prompt is over. */
void readreceipt_decide_client_mdnsent(struct readreceipt_decide *dec,
				       uint32_t uid);
/* uid is expunged in t. pending: it had an entry; owed: its receipt was
   owed and will never leave. */
void readreceipt_decide_expunged(struct readreceipt_decide *dec, uint32_t uid,
				 bool pending, bool owed);

/* Before t commits (or is rolled back). */
void readreceipt_decide_precommit(struct readreceipt_decide *dec);
/* After the commit (committed = it succeeded): release the lock, emit
   the events, and return the UIDs whose receipt became owed (valid until
   readreceipt_decide_free()). */
const ARRAY_TYPE(uint32_t) *
readreceipt_decide_end(struct readreceipt_decide *dec, bool committed);
/* After readreceipt_decide_end(): the receipts claimed at once (none if
   the transaction did not commit); valid until readreceipt_decide_free(). */
const ARRAY_TYPE(readreceipt_claim) *
readreceipt_decide_claims(struct readreceipt_decide *dec);
void readreceipt_decide_free(struct readreceipt_decide **dec);

/* Apply an answer outside a client's transaction (doveadm): its own
   transaction on box. Returns as readreceipt_decide_answer(); 1 also
   means committed. */
int readreceipt_decide_answer_now(struct mailbox *box, uint32_t uid,
				  enum readreceipt_answer answer,
				  const char **error_r);

/* Drop prompts older than expire_secs (readreceipt_pending_expire): the
   entry goes, the message gets $MDNSent, an "ignored"/"expired" event.
   *expired_r counts them. Returns 0, or -1 with *error_r. */
int readreceipt_decide_expire(struct mailbox *box, unsigned int expire_secs,
			      unsigned int *expired_r, const char **error_r);

#endif
