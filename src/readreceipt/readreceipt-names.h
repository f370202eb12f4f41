#ifndef READRECEIPT_NAMES_H
#define READRECEIPT_NAMES_H

/* The names that clients, users and administrators see, each written once
   here: the keywords (RFC 3503; $MDNAsk is this module's, SPEC §11) and
   the reasons of readreceipt_decision and readreceipt_submission events,
   pending entries and "doveadm readreceipt list" (SPEC §3, §4, §6, §7,
   §9, §12). tests/unit/test-names.sh fails on a copy elsewhere in src/. */

#define READRECEIPT_KEYWORD_MDNSENT "$MDNSent"
#define READRECEIPT_KEYWORD_MDNASK "$MDNAsk"

/* not eligible (SPEC §3) */
#define READRECEIPT_REASON_ALREADY_SENT "already_sent"
#define READRECEIPT_REASON_EXCLUDED_MAILBOX "excluded_mailbox"
#define READRECEIPT_REASON_REPORT "report"
#define READRECEIPT_REASON_AUTO_SUBMITTED "auto_submitted"
#define READRECEIPT_REASON_MAILING_LIST "mailing_list"
#define READRECEIPT_REASON_NOT_ADDRESSED_TO_USER "not_addressed_to_user"
#define READRECEIPT_REASON_OWN_MESSAGE "own_message"
#define READRECEIPT_REASON_INVALID_REQUEST "invalid_request"
/* one command set \Seen on more than readreceipt_bulk_limit messages */
#define READRECEIPT_REASON_BULK "bulk"

/* the decision (SPEC §4), and submission's judgement (SPEC §9) */
#define READRECEIPT_REASON_INVALID_SETTINGS "invalid_settings"
#define READRECEIPT_REASON_MODE_DISABLED "mode_disabled"
#define READRECEIPT_REASON_RECIPIENT_NOT_ALLOWED "recipient_not_allowed"
#define READRECEIPT_REASON_CONSENT_REQUIRED "consent_required"
#define READRECEIPT_REASON_UNPROMPTED "unprompted"
#define READRECEIPT_REASON_AUTOMATIC "automatic"
#define READRECEIPT_REASON_UNPROMPTED_SEND "unprompted_send"
#define READRECEIPT_REASON_DEFER_UNAVAILABLE "defer_unavailable"
#define READRECEIPT_REASON_ALLOWED "allowed"

/* why a receipt waits (SPEC §6, §12) */
#define READRECEIPT_REASON_PROMPT "prompt"
#define READRECEIPT_REASON_RETRY "retry"
#define READRECEIPT_REASON_RATE_LIMITED "rate_limited"
#define READRECEIPT_REASON_OWED "owed"
#define READRECEIPT_REASON_SENDING "sending"

/* how a receipt ended without being sent, or could not be handled */
/* the user decided: a manual send, or an answer "ignore" */
#define READRECEIPT_REASON_USER "user"
#define READRECEIPT_REASON_EXPIRED "expired"
#define READRECEIPT_REASON_EXPUNGED "expunged"
#define READRECEIPT_REASON_PERMANENT_FAILURE "permanent_failure"
#define READRECEIPT_REASON_NO_ATTRIBUTE_DICT "no_attribute_dict"
#define READRECEIPT_REASON_NO_USER_EMAIL "no_user_email"
#define READRECEIPT_REASON_LOCK "lock"
#define READRECEIPT_REASON_STORAGE "storage"
/* a Sieve rule "never" (SPEC §11) */
#define READRECEIPT_REASON_SIEVE "sieve"

#endif
