#ifndef READRECEIPT_PROCESS_H
#define READRECEIPT_PROCESS_H

/* What happens to a message whose receipt is considered: read its headers,
   decide by the policy, send or queue, and leave an event for each. Used
   at open time and by the pending queue (answers, retries). */

#include "readreceipt-policy.h"
#include "readreceipt-event.h"

struct mail;
struct readreceipt_pending;
struct readreceipt_user;
struct readreceipt_settings;

enum readreceipt_send_result {
	READRECEIPT_SEND_OK = 0,
	/* another session sent it first */
	READRECEIPT_SEND_ALREADY_SENT,
	READRECEIPT_SEND_TEMPORARY_FAILURE,
	READRECEIPT_SEND_PERMANENT_FAILURE,
	READRECEIPT_SEND_RATE_LIMITED,
	READRECEIPT_SEND_NO_USER_EMAIL,
	READRECEIPT_SEND_LOCK_FAILED,
	READRECEIPT_SEND_STORAGE_FAILED,
};

/* One message as read from the storage. */
struct readreceipt_mail_info {
	struct readreceipt_message msg;
	uint32_t uid;
	const char *subject;
	const char *message_id;
	const char *original_recipient;
	buffer_t *header;
};

struct readreceipt_process_context {
	struct mailbox *box;
	struct mail_user *user;
	struct readreceipt_user *ruser;
	const struct readreceipt_settings *set;
	enum readreceipt_trigger trigger;
	bool excluded;
	bool queue_available;
	bool prev_busy;

	struct mailbox_transaction_context *t;
	struct mail *mail;
};

/* Fill msg_r from the message's flags and headers (strings on the data
   stack). excluded_mailbox is left FALSE: it depends on where the message
   is, which the caller knows. Exported for the Sieve module, which reads
   the message being delivered. Returns 1, or 0 if the message is gone. */
int readreceipt_message_from_mail(struct mail *mail,
				  struct readreceipt_message *msg_r);

/* the event reason for a send result */
const char *readreceipt_send_result_reason(enum readreceipt_send_result result);

/* uids holds at most seen_count UIDs; when seen_count is larger than
   readreceipt_bulk_limit in an IMAP session, the command was "mark as
   read": no headers are read and one event covers the whole command. */
void readreceipt_process_seen(struct mailbox *box,
			      const ARRAY_TYPE(uint32_t) *uids,
			      unsigned int seen_count);

/* Open a reading transaction on box for the module's own work; while it
   is open, nothing the module does triggers it again. */
void readreceipt_process_begin(struct readreceipt_process_context *ctx,
			       struct mailbox *box,
			       enum readreceipt_trigger trigger);
void readreceipt_process_end(struct readreceipt_process_context *ctx);

/* Read the message's flags and headers (strings on the data stack).
   Returns 1, 0 if the message does not exist, -1 on error. */
int readreceipt_process_read(struct readreceipt_process_context *ctx,
			     uint32_t uid,
			     struct readreceipt_mail_info *info_r);

/* Send the MDN now: under the per-user lock, after re-checking $MDNSent
   and the hourly limit; sets $MDNSent after a successful send. */
enum readreceipt_send_result
readreceipt_process_send(struct readreceipt_process_context *ctx,
			 const struct readreceipt_mail_info *info,
			 const struct readreceipt_verdict *verdict,
			 bool automatic, const char **error_r);

/* Check (and with set_it, set) $MDNSent on a freshly synced view.
   Returns 1 if it was already set (or the message is gone), 0 if not,
   -1 on error. */
int readreceipt_process_mdnsent(struct mailbox *box, uint32_t uid,
				bool set_it, const char **error_r);

/* The pending entry for a message. */
void readreceipt_process_pending(const struct readreceipt_mail_info *info,
				 const struct readreceipt_verdict *verdict,
				 const char *reason,
				 struct readreceipt_pending *pending_r);

void readreceipt_process_emit(struct readreceipt_process_context *ctx,
			      const struct readreceipt_mail_info *info,
			      const struct readreceipt_verdict *verdict,
			      const char *decision, const char *reason,
			      const char *error);

#endif
