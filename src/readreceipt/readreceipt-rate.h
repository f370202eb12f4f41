#ifndef READRECEIPT_RATE_H
#define READRECEIPT_RATE_H

/* The hourly send counter (readreceipt_max_per_hour): the send times of
   the last hour in a small file beside the outbox list, one line appended
   per receipt, compacted when it holds more than twice the limit. Callers
   hold the user's outbox lock. */

#define READRECEIPT_RATE_FNAME "dovecot-readreceipt.rate"

struct mail_user;

/* Returns 1 if one more receipt may be sent at now, 0 if max_per_hour
   were sent in the hour before. max_per_hour 0 = no limit. A missing or
   damaged file counts as no sends: the counter protects against floods,
   it must never stop receipts for good. */
int readreceipt_rate_check(struct mail_user *user, unsigned int max_per_hour,
			   time_t now);
/* Count count receipts sent at now (one append for all). Returns 0, or
   -1 with *error_r. */
int readreceipt_rate_add(struct mail_user *user, unsigned int max_per_hour,
			 time_t now, unsigned int count, const char **error_r);

#endif
