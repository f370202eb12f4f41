#ifndef READRECEIPT_PENDING_H
#define READRECEIPT_PENDING_H

/* The pending-prompt entry (SPEC §6) and the answers to it. Pure: the JSON
   value in and out, and the validation of what a client may set. */

#include "readreceipt-names.h"

/* relative to /private: everything of the module is under this */
#define READRECEIPT_ATTRIBUTE_KEY_PREFIX "vendor/vendor.readreceipt"
/* relative to /private: the entry of UID n is PREFIX "/" n */
#define READRECEIPT_PENDING_KEY_PREFIX \
	READRECEIPT_ATTRIBUTE_KEY_PREFIX "/pending"
/* the full IMAP METADATA entry name prefix */
#define READRECEIPT_PENDING_ENTRY_PREFIX \
	"/private/" READRECEIPT_PENDING_KEY_PREFIX

/* why the entry waits */
#define READRECEIPT_PENDING_REASON_PROMPT READRECEIPT_REASON_PROMPT
#define READRECEIPT_PENDING_REASON_CONSENT_REQUIRED \
	READRECEIPT_REASON_CONSENT_REQUIRED
#define READRECEIPT_PENDING_REASON_UNPROMPTED READRECEIPT_REASON_UNPROMPTED
#define READRECEIPT_PENDING_REASON_RETRY READRECEIPT_REASON_RETRY
#define READRECEIPT_PENDING_REASON_RATE_LIMITED READRECEIPT_REASON_RATE_LIMITED

/* A value larger than this is not ours: it is refused when parsing. */
#define READRECEIPT_PENDING_JSON_MAX (64 * 1024)

struct readreceipt_pending {
	/* the requested addresses (normalized) */
	ARRAY_TYPE(const_string) to;
	/* the original's subject, decoded to UTF-8 (may be "") */
	const char *subject;
	/* the original's Message-ID as found (may be "") */
	const char *message_id;
	/* one of READRECEIPT_PENDING_REASON_* */
	const char *reason;
	/* unix time when it was queued */
	time_t since;
};

enum readreceipt_answer {
	/* "send": send manual-action/MDN-sent-manually, then $MDNSent */
	READRECEIPT_ANSWER_SEND = 1,
	/* "ignore" or NIL: only $MDNSent */
	READRECEIPT_ANSWER_IGNORE,
};

/* Write the entry's JSON value: {"to":[...],"subject":"...",
   "message_id":"...","reason":"...","since":N}. Strings are escaped so
   that any input (quotes, control characters, invalid UTF-8) gives valid
   JSON; invalid UTF-8 becomes U+FFFD. */
void readreceipt_pending_to_json(const struct readreceipt_pending *pending,
				 string_t *out);

/* Parse a value written by readreceipt_pending_to_json() (and any
   equivalent JSON: whitespace, key order, unknown keys ignored; raw
   control characters inside strings are taken as Dovecot 2.3's json-parser
   takes them, and refused as 2.4's lib-json refuses them). Strings
   must be valid UTF-8, a known key may appear once, and values nest at
   most 16 levels deep. Strings are allocated from pool. Returns 0 on
   success, -1 with *error_r if the value is not a valid entry. */
int readreceipt_pending_from_json(pool_t pool, const char *json,
				  struct readreceipt_pending *pending_r,
				  const char **error_r);

/* Validate what a client set on an entry. value NULL is NIL. "send" and
   "ignore" compare case-insensitively. Returns 0 with *answer_r, or -1
   with *error_r (a sentence suitable for an IMAP NO) for anything else. */
int readreceipt_answer_parse(const char *value,
			     enum readreceipt_answer *answer_r,
			     const char **error_r);

/* TRUE if key (relative to /private) is an entry, with its UID. */
bool readreceipt_pending_key_parse(const char *key, uint32_t *uid_r);
/* The key (relative to /private) of the entry for uid. */
const char *readreceipt_pending_key(uint32_t uid);

#endif
