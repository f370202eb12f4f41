#ifndef READRECEIPT_CLAIM_H
#define READRECEIPT_CLAIM_H

/* The per-user receipt lock. Every process that may send a receipt for the
   user holds it from the final $MDNSent check until $MDNSent is committed,
   so two sessions opening one message at once send exactly one receipt.
   The hourly send counter lives beside it, under the same lock. */

#define READRECEIPT_CLAIM_LOCK_FNAME "dovecot-readreceipt.lock"
#define READRECEIPT_CLAIM_RATE_FNAME "dovecot-readreceipt.rate"

struct mail_user;
struct readreceipt_claim;

/* Returns 1 when locked, 0 on timeout, -1 on error. */
int readreceipt_claim_lock(struct mail_user *user, unsigned int timeout_secs,
			   struct readreceipt_claim **claim_r,
			   const char **error_r);
void readreceipt_claim_unlock(struct readreceipt_claim **claim);

/* Returns 1 if one more receipt may be sent now, 0 if max_per_hour were
   already sent in the last hour, -1 on error. max_per_hour 0 = no limit. */
int readreceipt_claim_rate_check(struct readreceipt_claim *claim,
				 unsigned int max_per_hour, time_t now,
				 const char **error_r);
/* Count a receipt that was sent at now. */
int readreceipt_claim_rate_add(struct readreceipt_claim *claim,
			       unsigned int max_per_hour, time_t now,
			       const char **error_r);

#endif
