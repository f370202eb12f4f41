#ifndef READRECEIPT_PROCESS_H
#define READRECEIPT_PROCESS_H

/* What happens to messages that newly became \Seen in a committed
   transaction: read their headers, decide by the policy, act, and leave an
   event for each. */

/* uids holds at most seen_count UIDs; when seen_count is larger than
   readreceipt_bulk_limit in an IMAP session, the command was "mark as
   read": no headers are read and one event covers the whole command. */
void readreceipt_process_seen(struct mailbox *box,
			      const ARRAY_TYPE(uint32_t) *uids,
			      unsigned int seen_count);

#endif
