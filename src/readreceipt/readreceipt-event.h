#ifndef READRECEIPT_EVENT_H
#define READRECEIPT_EVENT_H

/* The audit trail: one readreceipt_decision event per considered message,
   also written as one log line. */

extern struct event_category event_category_readreceipt;

#define READRECEIPT_EVENT_DECISION "readreceipt_decision"
#define READRECEIPT_EVENT_SUBMISSION "readreceipt_submission"
#define READRECEIPT_EVENT_POLICY_CHANGED "readreceipt_policy_changed"
#define READRECEIPT_EVENT_MESSAGE_ID_MAX 200
/* Every field of an event (and of its log line) is at most this many
   bytes: a longer value is cut at a character boundary and ends with
   READRECEIPT_EVENT_TRUNCATED. */
#define READRECEIPT_EVENT_FIELD_MAX 1024
#define READRECEIPT_EVENT_TRUNCATED "...[truncated]"

/* what made the module consider a message (the trigger field) */
enum readreceipt_trigger {
	READRECEIPT_TRIGGER_OPEN = 0,
	READRECEIPT_TRIGGER_MARK,
	READRECEIPT_TRIGGER_POP3,
	/* an answer to a pending entry (client or doveadm) */
	READRECEIPT_TRIGGER_ANSWER,
	/* a retry of what waits (doveadm flush, or the next commit) */
	READRECEIPT_TRIGGER_FLUSH,
	READRECEIPT_TRIGGER_DELIVERY,
};

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

/* What the submission module did with one outgoing message (SPEC §7). */
struct readreceipt_submission_info {
	/* accepted, rejected, stripped */
	const char *action;
	const char *reason;
	/* receipt: the message is a receipt; request: it asks for one */
	const char *kind;
	const char *message_id;
	/* comma-separated envelope recipients (for recipient_not_allowed:
	   the one that is not allowed) */
	const char *recipient;
};

const char *readreceipt_trigger_to_str(enum readreceipt_trigger trigger);

/* The requested addresses as the recipient field shows them: joined
   with ",", "" for none. */
const char *
readreceipt_event_addresses(const ARRAY_TYPE(const_string) *addrs);
/* A Message-ID as the message_id field shows it: "" for none, cut after
   READRECEIPT_EVENT_MESSAGE_ID_MAX characters. */
const char *readreceipt_event_message_id(const char *message_id);
/* value cut to READRECEIPT_EVENT_FIELD_MAX bytes (see there); "" for
   NULL. */
const char *readreceipt_event_field(const char *value);

/* Emit a readreceipt_submission event as a child of parent and log it
   (Info). */
void
readreceipt_event_submission(struct event *parent,
			     const struct readreceipt_submission_info *info);

/* The log line's text for info (without the "readreceipt: " prefix). */
const char *
readreceipt_event_format(const struct readreceipt_decision_info *info);
const char *
readreceipt_event_submission_format(
	const struct readreceipt_submission_info *info);

/* A setting of the user's effective policy changed (SPEC §15). */
struct readreceipt_policy_change_info {
	const char *user;
	/* the setting's name */
	const char *setting;
	const char *old_value;
	const char *new_value;
	/* where the new value comes from: default, config, userdb */
	const char *source;
	/* the new policy is invalid (receipts disabled): why; else NULL */
	const char *error;
};

const char *
readreceipt_event_policy_changed_format(
	const struct readreceipt_policy_change_info *info);
/* Emit a readreceipt_policy_changed event as a child of parent and log it
   (Info; Warning when the new policy is invalid). */
void readreceipt_event_policy_changed(
	struct event *parent, const struct readreceipt_policy_change_info *info);

#endif
