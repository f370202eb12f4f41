#ifndef READRECEIPT_RECORD_H
#define READRECEIPT_RECORD_H

/* The module's own per-message record (SPEC §12), kept as a mail index
   extension so that it is committed atomically with the \Seen change that
   made a receipt owed, moves with the mailbox and needs no attribute dict.
   Pure: the record's meaning, without the index. */

#include "guid.h"

/* the mail index extension's name */
#define READRECEIPT_RECORD_EXT_NAME "readreceipt"
/* A claim older than readreceipt_submission_timeout plus this many seconds
   belongs to a process that died: the receipt is owed again. */
#define READRECEIPT_RECORD_CLAIM_STALE_EXTRA_SECS 5

enum readreceipt_record_state {
	/* no receipt was decided for the message */
	READRECEIPT_RECORD_NONE = 0,
	/* a receipt is owed and waits to be sent */
	READRECEIPT_RECORD_OWED,
	/* a process claimed it and is sending it (since stamp) */
	READRECEIPT_RECORD_SENDING,
	/* finished: sent, ignored, expired or failed for good; the message
	   never gets another receipt, whatever its flags say */
	READRECEIPT_RECORD_DONE,
};

enum readreceipt_record_flags {
	/* a pending prompt (METADATA entry) exists for the message */
	READRECEIPT_RECORD_FLAG_PENDING = 0x01,
	/* the owed receipt is manual-action/MDN-sent-manually */
	READRECEIPT_RECORD_FLAG_MANUAL = 0x02,
};

/* why an owed receipt waits */
enum readreceipt_record_wait {
	/* not tried yet */
	READRECEIPT_RECORD_WAIT_NEW = 0,
	/* the last try failed temporarily */
	READRECEIPT_RECORD_WAIT_RETRY,
	/* readreceipt_max_per_hour was reached */
	READRECEIPT_RECORD_WAIT_RATE_LIMITED,
};

/* Stored as it is in the index: 8 bytes, 4-byte aligned. */
struct readreceipt_record {
	uint8_t state;		/* enum readreceipt_record_state */
	uint8_t flags;		/* enum readreceipt_record_flags */
	uint8_t trigger;	/* enum readreceipt_trigger that made it owed */
	uint8_t wait;		/* enum readreceipt_record_wait */
	/* unix time: OWED since/last failure, SENDING since */
	uint32_t stamp;
};

/* TRUE when a process may claim the receipt now: it is owed, or its
   claim is stale (the claiming process died). */
bool readreceipt_record_claimable(const struct readreceipt_record *rec,
				  time_t now, unsigned int timeout_secs);
/* TRUE when rec is the claim taken at stamp: still being sent by the
   process that took it, not taken over by another after it turned stale
   (a takeover writes its own, later stamp). */
bool readreceipt_record_claimed_at(const struct readreceipt_record *rec,
				   time_t stamp);
/* TRUE when a receipt is owed or being sent. */
bool readreceipt_record_is_owed(const struct readreceipt_record *rec);

/* What doveadm readreceipt list shows as the reason an owed receipt
   waits: "owed", "sending", "retry" or "rate_limited". */
const char *readreceipt_record_wait_reason(const struct readreceipt_record *rec,
					   time_t now,
					   unsigned int timeout_secs);

/* The receipt's Message-ID, the same for every try for this message:
   "<readreceipt.GUID.UIDVALIDITY.UID@domain>", domain taken from
   user_email (my_hostname if it has none). A duplicate after a crash
   carries the same one, so receivers can recognise it. */
const char *readreceipt_record_message_id(const guid_128_t mailbox_guid,
					  uint32_t uid_validity, uint32_t uid,
					  const char *user_email,
					  const char *hostname);

#endif
