#ifndef READRECEIPT_EVENT_H
#define READRECEIPT_EVENT_H

/* The audit trail: one readreceipt_decision event per considered message,
   also written as one log line. */

extern struct event_category event_category_readreceipt;

#define READRECEIPT_EVENT_DECISION "readreceipt_decision"

struct readreceipt_decision_info {
	/* sent, queued, suppressed, ignored, failed */
	const char *decision;
	const char *reason;
	/* open, mark, pop3, answer, flush, delivery */
	const char *trigger;
	const char *mode;
	const char *mailbox;
	uint32_t uid;
	const char *message_id;
	/* comma-separated requested addresses */
	const char *recipient;
	/* what went wrong, for decision "failed"; NULL otherwise */
	const char *error;
};

/* Emit the event as a child of parent and log it: Info, or Warning for
   "failed". */
void readreceipt_event_decision(struct event *parent,
				const struct readreceipt_decision_info *info);

/* The log line's text for info (without the "readreceipt: " prefix). */
const char *
readreceipt_event_format(const struct readreceipt_decision_info *info);

#endif
