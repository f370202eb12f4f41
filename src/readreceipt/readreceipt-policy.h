#ifndef READRECEIPT_POLICY_H
#define READRECEIPT_POLICY_H

/* Eligibility (SPEC §3) and decision (SPEC §4). Pure: headers and settings
   in, verdict and reason out. */

#include "readreceipt-settings.h"

/* Everything the policy needs to know about one message. Header arrays are
   NULL-terminated lists of the raw (unfolded) values of every instance of
   that header; NULL or empty when the header is absent. */
struct readreceipt_message {
	const char *const *disposition_notification_to;
	const char *const *disposition_notification_options;
	const char *const *return_path;
	const char *const *to;
	const char *const *cc;
	const char *const *content_type;
	const char *const *auto_submitted;
	const char *const *precedence;
	/* TRUE if any List-Id, List-Post, List-Owner, List-Unsubscribe,
	   List-Subscribe, List-Help or List-Archive header is present */
	bool has_list_header;

	/* keywords */
	bool has_mdnsent;	/* $MDNSent */
	bool has_mdnask;	/* $MDNAsk */
	/* mailbox matches readreceipt_exclude */
	bool excluded_mailbox;
};

enum readreceipt_action {
	/* the message does not ask for a receipt: nothing to do, no event */
	READRECEIPT_ACTION_NONE = 0,
	/* not eligible or not allowed: event "suppressed" */
	READRECEIPT_ACTION_SUPPRESS,
	/* send the MDN now, automatic-action/MDN-sent-automatically */
	READRECEIPT_ACTION_SEND,
	/* needs the user's consent: queue a pending prompt */
	READRECEIPT_ACTION_QUEUE,
	/* needs consent that nobody can give: event "ignored" */
	READRECEIPT_ACTION_IGNORE,
};

struct readreceipt_verdict {
	enum readreceipt_action action;
	/* event reason, e.g. "already_sent", "mode_disabled", "automatic" */
	const char *reason;
	/* the requested addresses (normalized), when they could be parsed */
	ARRAY_TYPE(const_string) recipients;
	/* RFC 8098 §2.1 demands the user's consent for this one */
	bool consent_required;
};

/* Decide what to do with a message that newly became \Seen.
   session_can_prompt: the session's client shows its own prompt (SPEC §4
   step 4). queue_available: a pending queue exists; when FALSE, "defer"
   ends as READRECEIPT_ACTION_IGNORE with reason "defer_unavailable".
   Strings and the recipients array are allocated from pool. */
void readreceipt_policy_decide(const struct readreceipt_settings *set,
			       const struct readreceipt_message *msg,
			       bool session_can_prompt, bool queue_available,
			       pool_t pool,
			       struct readreceipt_verdict *verdict_r);

/* TRUE when msg asks this user for a receipt that the module would
   consider: the request is valid and the message is eligible (SPEC §3),
   whatever the administrator's mode, allow list and prompt settings then
   decide. This is what Sieve's readreceipt_requested test answers. */
bool readreceipt_policy_requested(const struct readreceipt_settings *set,
				  const struct readreceipt_message *msg);

/* Append to addrs (its pool holds the strings) the requested addresses of
   msg, as readreceipt_policy_decide() would put them in the verdict's
   recipients, within the same bounds. Only the request headers of msg are
   looked at. */
void readreceipt_policy_request_addresses(
	const struct readreceipt_message *msg,
	ARRAY_TYPE(const_string) *addrs);

const char *readreceipt_action_to_decision(enum readreceipt_action action);

/* TRUE if addr (normalized) may receive receipts in mode internal: it is
   in readreceipt_domains or matches readreceipt_allow, and its local part
   holds no '@', '%' or '!' (which could route it elsewhere). */
bool
readreceipt_policy_recipient_allowed(const struct readreceipt_settings *set,
				     const char *addr);

/* TRUE if a verdict reached while the message is delivered forbids its
   receipt whatever happens later, so that it is saved with $MDNSent
   (readreceipt_hide_forbidden). Where the message is stored does not
   count (it may be moved), and a message that has $MDNSent needs
   nothing. */
bool readreceipt_policy_hide_at_delivery(
	const struct readreceipt_verdict *verdict);

/* SPEC §9: may the user's own client send a receipt to these envelope
   recipients (normalized addresses)? Returns NULL if it may, else the
   reason: "invalid_settings", "mode_disabled", or
   "recipient_not_allowed" with *recipient_r the first recipient that mode
   internal does not allow. */
const char *
readreceipt_policy_outgoing_receipt(const struct readreceipt_settings *set,
				    const ARRAY_TYPE(const_string) *recipients,
				    const char **recipient_r);

/* SPEC §9: what becomes of Disposition-Notification-To in the user's
   outgoing mail. When receipts are disabled (by the mode or by invalid
   settings), returns readreceipt_request with *reason_r "mode_disabled"
   or "invalid_settings"; otherwise READRECEIPT_REQUEST_ALLOW with
   *reason_r NULL. */
enum readreceipt_request
readreceipt_policy_outgoing_request(const struct readreceipt_settings *set,
				    const char **reason_r);

#endif
