/* Copyright (c) dovecot-readreceipt authors */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "strfuncs.h"
#include "rfc822-parser.h"
#include "readreceipt-settings.h"
#include "readreceipt-address.h"
#include "readreceipt-policy.h"
#include "readreceipt-names.h"

/* The verdict for one message is reached in three steps:

   1. Does it ask for a receipt at all? Without a
      Disposition-Notification-To header it does not (ACTION_NONE, no
      event).

   2. Is it eligible (SPEC §3)? The request is parsed first, so that every
      audit event can name the requested addresses. The reasons are then
      checked in this order, the first match wins:

      already_sent           $MDNSent
      excluded_mailbox       readreceipt_exclude
      report                 Content-Type multipart/report
      auto_submitted         Auto-Submitted other than "no" (RFC 3834)
      mailing_list           List-* header, Precedence bulk/list/junk
      not_addressed_to_user  readreceipt_user_email not in To/Cc
      own_message            a requested address is the user's own
      invalid_request        not exactly one Disposition-Notification-To,
                             a value longer than POLICY_VALUE_MAX, a syntax
                             error or no valid address in it, or
                             Disposition-Notification-Options with a
                             "required" parameter (or unparsable, or more
                             than one)

      Flags and simple header checks come first. own_message needs the
      parsed request, but comes before invalid_request: a request whose
      addresses could all be parsed and that names the user is better
      reported as the user's own message, even when it is invalid for
      another reason (e.g. a "required" option).

   Every header here is written by a stranger, so the work is bounded
   whatever the message holds (SPEC §13): a second
   Disposition-Notification-To ends the parsing at once; of every value
   at most POLICY_VALUE_MAX bytes are looked at; at most
   READRECEIPT_ADDRESS_MAX_PER_HEADER addresses of the request, and as
   many of To and Cc together, are considered; of the headers that may
   repeat only the first POLICY_INSTANCES_MAX instances are, and more than
   that counts as the answer that sends nothing. Nothing is quadratic in
   more than these bounds.

   3. The decision (SPEC §4): invalid settings, mode, allowed recipients,
      consent, then the session's ability to prompt and
      readreceipt_unprompted. */

/* Bytes of one header value that are looked at. */
#define POLICY_VALUE_MAX 4096
/* Bytes of To and Cc together that are looked at for the user's
   address: a hundred addresses with long display names. */
#define POLICY_TO_CC_BYTES_MAX (16 * 1024)
/* Instances of a header that may repeat (Auto-Submitted, Precedence,
   Content-Type, To, Cc) that are looked at. */
#define POLICY_INSTANCES_MAX 8

struct policy_request {
	/* distinct requested addresses, allocated from the verdict's pool;
	   empty when any Disposition-Notification-To had a syntax error */
	ARRAY_TYPE(const_string) *addrs;
	/* TRUE when the request is well-formed: exactly one header, no
	   syntax error, at least one address, acceptable options */
	bool valid;
};

static unsigned int policy_header_count(const char *const *values)
{
	return values == NULL ? 0 : str_array_length(values);
}

/* TRUE if a header that may repeat has more instances than are looked at:
   the caller then takes the answer that sends nothing. */
static bool policy_too_many(const char *const *values)
{
	unsigned int i;

	if (values == NULL)
		return FALSE;
	for (i = 0; i <= POLICY_INSTANCES_MAX; i++) {
		if (values[i] == NULL)
			return FALSE;
	}
	return TRUE;
}

/* How much of a value is looked at: the start of a token or a type is
   all that the checks below need. */
static size_t policy_value_len(const char *value)
{
	return strnlen(value, POLICY_VALUE_MAX);
}

static bool
policy_addr_list_contains(const ARRAY_TYPE(const_string) *addrs,
			  const char *addr)
{
	const char *other;

	array_foreach_elem(addrs, other) {
		if (readreceipt_address_equals(other, addr))
			return TRUE;
	}
	return FALSE;
}

/* Parse a header value that starts with a single token, ignoring comments
   (the rfc822 parser skips them together with whitespace). Returns the
   token, or NULL if the value does not start with one. When params_ok is
   FALSE anything but the end of the value after the token is an error;
   otherwise ";" parameters may follow and are not looked at. */
static const char *policy_parse_token(const char *value, bool params_ok)
{
	struct rfc822_parser_context parser;
	string_t *token = t_str_new(32);
	const char *result = NULL;
	int ret;

	rfc822_parser_init(&parser, (const unsigned char *)value,
			   policy_value_len(value), NULL);
	if (rfc822_skip_lwsp(&parser) > 0 &&
	    (ret = rfc822_parse_atom(&parser, token)) >= 0) {
		if (ret == 0 || (params_ok && *parser.data == ';'))
			result = str_c(token);
	}
	rfc822_parser_deinit(&parser);
	return result;
}

static bool policy_is_report(const char *const *content_types)
{
	struct rfc822_parser_context parser;
	string_t *type;
	unsigned int i;
	bool found = FALSE;

	if (content_types == NULL)
		return FALSE;
	if (policy_too_many(content_types))
		return TRUE;

	type = t_str_new(64);
	for (i = 0; content_types[i] != NULL && !found; i++) {
		str_truncate(type, 0);
		rfc822_parser_init(&parser,
				   (const unsigned char *)content_types[i],
				   policy_value_len(content_types[i]), NULL);
		if (rfc822_parse_content_type(&parser, type) >= 0 &&
		    strcasecmp(str_c(type), "multipart/report") == 0)
			found = TRUE;
		rfc822_parser_deinit(&parser);
	}
	return found;
}

static bool policy_is_auto_submitted(const char *const *values)
{
	const char *token;
	unsigned int i;

	if (values == NULL)
		return FALSE;
	if (policy_too_many(values))
		return TRUE;
	for (i = 0; values[i] != NULL; i++) {
		/* RFC 3834 §5: only "no" marks a message as not
		   automatically submitted. Anything else, including a value
		   that cannot be parsed, is treated as automatic: answering
		   an automatic message risks a mail loop. */
		token = policy_parse_token(values[i], TRUE);
		if (token == NULL || strcasecmp(token, "no") != 0)
			return TRUE;
	}
	return FALSE;
}

static bool policy_is_mailing_list(const struct readreceipt_message *msg)
{
	const char *token;
	unsigned int i;

	if (msg->has_list_header)
		return TRUE;
	if (msg->precedence == NULL)
		return FALSE;
	if (policy_too_many(msg->precedence))
		return TRUE;
	for (i = 0; msg->precedence[i] != NULL; i++) {
		token = policy_parse_token(msg->precedence[i], FALSE);
		if (token != NULL &&
		    (strcasecmp(token, "bulk") == 0 ||
		     strcasecmp(token, "list") == 0 ||
		     strcasecmp(token, "junk") == 0))
			return TRUE;
	}
	return FALSE;
}

/* What is left of the bounds while To and Cc are searched. */
struct policy_addr_budget {
	unsigned int addresses;
	size_t bytes;
};

/* The part of value within budget, cut after the last ',' when it is too
   long, so that no address is cut in two (a cut one could read as
   another address). NULL when nothing is left. */
static const char *
policy_budget_value(struct policy_addr_budget *budget, const char *value)
{
	size_t len;

	if (budget->addresses == 0 || budget->bytes == 0)
		return NULL;
	len = strnlen(value, budget->bytes + 1);
	if (len <= budget->bytes) {
		budget->bytes -= len;
		return value;
	}
	len = budget->bytes;
	while (len > 0 && value[len-1] != ',')
		len--;
	budget->bytes = 0;
	return len == 0 ? NULL : t_strndup(value, len - 1);
}

/* TRUE if addr is among the addresses of values that the budget allows
   looking at. Syntax errors do not matter: only whether the address is
   among those that could be parsed. */
static bool
policy_headers_contain(const char *const *values, const char *addr,
		       struct policy_addr_budget *budget)
{
	ARRAY_TYPE(const_string) addrs;
	const char *value, *other;
	unsigned int i, count;

	if (values == NULL)
		return FALSE;
	t_array_init(&addrs, 8);
	for (i = 0; values[i] != NULL && i < POLICY_INSTANCES_MAX; i++) {
		value = policy_budget_value(budget, values[i]);
		if (value == NULL)
			break;
		array_clear(&addrs);
		(void)readreceipt_address_parse_list(value, &addrs);
		count = 0;
		array_foreach_elem(&addrs, other) {
			if (count++ == budget->addresses)
				break;
			if (readreceipt_address_equals(other, addr))
				return TRUE;
		}
		budget->addresses -= I_MIN(count, budget->addresses);
	}
	return FALSE;
}

static bool
policy_is_addressed_to_user(const struct readreceipt_settings *set,
			    const struct readreceipt_message *msg)
{
	struct policy_addr_budget budget = {
		.addresses = READRECEIPT_ADDRESS_MAX_PER_HEADER,
		.bytes = POLICY_TO_CC_BYTES_MAX,
	};

	if (set->user_email == NULL)
		return FALSE;
	return policy_headers_contain(msg->to, set->user_email, &budget) ||
		policy_headers_contain(msg->cc, set->user_email, &budget);
}

/* Skip whitespace and comments. Returns FALSE at the end of the value or
   on an unterminated comment. */
static bool policy_dno_skip(struct rfc822_parser_context *parser)
{
	return rfc822_skip_lwsp(parser) > 0;
}

/* RFC 8098 §2.2:

   Disposition-Notification-Options = "Disposition-Notification-Options"
	":" [FWS] disposition-notification-parameter-list [FWS]
   disposition-notification-parameter-list =
	disposition-notification-parameter
	*([FWS] ";" [FWS] disposition-notification-parameter)
   disposition-notification-parameter = attribute [FWS] "=" [FWS]
	importance [FWS] "," [FWS] value *([FWS] "," [FWS] value)
   importance = "required" / "optional"

   No parameter is known to this implementation, so a "required" one makes
   the request invalid (§2.2: such a request may only be answered with a
   "failed" MDN, which is never sent here); "optional" ones are ignored.
   Returns 0 if the options may be ignored, -1 if they make the request
   invalid, including any syntax error. */
static int policy_parse_dno(const char *value)
{
	struct rfc822_parser_context parser;
	string_t *attr, *importance, *word;
	int ret = 0;

	if (strnlen(value, POLICY_VALUE_MAX + 1) > POLICY_VALUE_MAX)
		return -1;
	attr = t_str_new(32);
	importance = t_str_new(16);
	word = t_str_new(64);
	rfc822_parser_init(&parser, (const unsigned char *)value,
			   strlen(value), NULL);
	for (;;) {
		str_truncate(attr, 0);
		str_truncate(importance, 0);
		/* RFC 5322 atext includes '=', so the attribute is read
		   as a MIME token, which ends there */
		if (!policy_dno_skip(&parser) ||
		    rfc822_parse_mime_token(&parser, attr) <= 0 ||
		    *parser.data != '=') {
			ret = -1;
			break;
		}
		parser.data++;
		if (!policy_dno_skip(&parser) ||
		    rfc822_parse_mime_token(&parser, importance) <= 0 ||
		    *parser.data != ',') {
			ret = -1;
			break;
		}
		if (strcasecmp(str_c(importance), "required") == 0) {
			/* an unknown parameter that must be understood */
			ret = -1;
			break;
		}
		if (strcasecmp(str_c(importance), "optional") != 0) {
			ret = -1;
			break;
		}
		/* one or more values: value = word */
		do {
			str_truncate(word, 0);
			parser.data++;
			if (!policy_dno_skip(&parser)) {
				ret = -1;
				break;
			}
			if (*parser.data == '"')
				ret = rfc822_parse_quoted_string(&parser, word);
			else
				ret = rfc822_parse_atom(&parser, word);
		} while (ret > 0 && *parser.data == ',');

		if (ret <= 0) {
			/* 0: the end of the value after a complete
			   parameter, -1: a syntax error */
			break;
		}
		if (*parser.data != ';') {
			ret = -1;
			break;
		}
		parser.data++;
	}
	rfc822_parser_deinit(&parser);
	return ret < 0 ? -1 : 0;
}

static void
policy_parse_request(const struct readreceipt_message *msg,
		     struct policy_request *req)
{
	ARRAY_TYPE(const_string) parsed;
	pool_t pool = array_get_pool(req->addrs);
	const char *const *dnt = msg->disposition_notification_to;
	const char *const *dno = msg->disposition_notification_options;
	const char *addr;

	req->valid = FALSE;
	/* RFC 8098 §2.1: one field. A second one makes the request invalid
	   without looking at either: a stranger may add thousands. */
	if (policy_header_count(dnt) != 1 ||
	    strnlen(dnt[0], POLICY_VALUE_MAX + 1) > POLICY_VALUE_MAX)
		return;

	/* at most READRECEIPT_ADDRESS_MAX_PER_HEADER addresses */
	t_array_init(&parsed, 8);
	if (readreceipt_address_parse_list(dnt[0], &parsed) <= 0) {
		/* addresses before a syntax error are not trusted either */
		return;
	}

	/* RFC 8098 §2.1 speaks of distinct addresses; a duplicate would
	   only produce a second copy of the same receipt. Quadratic in a
	   bounded number. */
	array_foreach_elem(&parsed, addr) {
		if (!policy_addr_list_contains(req->addrs, addr)) {
			addr = p_strdup(pool, addr);
			array_push_back(req->addrs, &addr);
		}
	}

	/* RFC 8098 §2.2 allows one Disposition-Notification-Options field */
	if (policy_header_count(dno) > 1)
		return;
	if (dno != NULL && dno[0] != NULL && policy_parse_dno(dno[0]) < 0)
		return;
	req->valid = TRUE;
}

static bool
policy_is_own_message(const struct readreceipt_settings *set,
		      const struct policy_request *req)
{
	return set->user_email != NULL &&
		policy_addr_list_contains(req->addrs, set->user_email);
}

static const char *
policy_check_eligibility(const struct readreceipt_settings *set,
			 const struct readreceipt_message *msg,
			 const struct policy_request *req)
{
	if (msg->has_mdnsent)
		return READRECEIPT_REASON_ALREADY_SENT;
	if (msg->excluded_mailbox)
		return READRECEIPT_REASON_EXCLUDED_MAILBOX;
	if (policy_is_report(msg->content_type))
		return READRECEIPT_REASON_REPORT;
	if (policy_is_auto_submitted(msg->auto_submitted))
		return READRECEIPT_REASON_AUTO_SUBMITTED;
	if (policy_is_mailing_list(msg))
		return READRECEIPT_REASON_MAILING_LIST;
	if (!policy_is_addressed_to_user(set, msg))
		return READRECEIPT_REASON_NOT_ADDRESSED_TO_USER;
	if (policy_is_own_message(set, req))
		return READRECEIPT_REASON_OWN_MESSAGE;
	if (!req->valid)
		return READRECEIPT_REASON_INVALID_REQUEST;
	return NULL;
}

/* TRUE if the local part of a normalized address holds '@', '%' or '!':
   the server of the domain may route such an address further on (a quoted
   or source route, the "percent hack" of RFC 1123 §5.2.16, a UUCP bang
   path), so the domain does not say where a receipt ends up. The domain
   is after the last '@' (readreceipt_address_domain()), since the local
   part is kept unquoted. */
static bool policy_local_part_routes(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t local_len = at == NULL ? strlen(addr) : (size_t)(at - addr);

	return strcspn(addr, "@%!") < local_len;
}

bool
readreceipt_policy_recipient_allowed(const struct readreceipt_settings *set,
				     const char *addr)
{
	if (policy_local_part_routes(addr))
		return FALSE;
	return readreceipt_domain_matches(readreceipt_address_domain(addr),
					  &set->domains) ||
		readreceipt_allow_matches(addr, &set->allow);
}

/* Returns the first address that mode internal does not allow, or NULL
   if it allows them all. */
static const char *
policy_first_not_allowed(const struct readreceipt_settings *set,
			 const ARRAY_TYPE(const_string) *addrs)
{
	const char *addr;

	array_foreach_elem(addrs, addr) {
		if (!readreceipt_policy_recipient_allowed(set, addr))
			return addr;
	}
	return NULL;
}

/* RFC 8098 §2.1: an MDN is not sent without the user's confirmation when
   the message has no Return-Path, when the Return-Path differs from the
   requested address, or when more than one distinct address is
   requested. */
static bool
policy_consent_forced(const struct readreceipt_message *msg,
		      const ARRAY_TYPE(const_string) *addrs)
{
	const char *return_path, *requested;

	if (array_count(addrs) != 1)
		return TRUE;
	/* The delivering MTA puts its Return-Path on top, so the first
	   instance is the one that describes this delivery. */
	if (policy_header_count(msg->return_path) == 0 ||
	    strnlen(msg->return_path[0], POLICY_VALUE_MAX + 1) >
	    POLICY_VALUE_MAX ||
	    readreceipt_address_parse_path(msg->return_path[0],
					   &return_path) < 0 ||
	    *return_path == '\0')
		return TRUE;
	requested = array_idx_elem(addrs, 0);
	return !readreceipt_address_equals(return_path, requested);
}

static void
policy_decide_eligible(const struct readreceipt_settings *set,
		       const struct readreceipt_message *msg,
		       bool session_can_prompt, bool queue_available,
		       struct readreceipt_verdict *verdict)
{
	bool consent;

	if (set->error != NULL) {
		verdict->action = READRECEIPT_ACTION_SUPPRESS;
		verdict->reason = READRECEIPT_REASON_INVALID_SETTINGS;
		return;
	}

	switch (set->mode) {
	case READRECEIPT_MODE_DISABLED:
		verdict->action = READRECEIPT_ACTION_SUPPRESS;
		verdict->reason = READRECEIPT_REASON_MODE_DISABLED;
		return;
	case READRECEIPT_MODE_INTERNAL:
		if (policy_first_not_allowed(set,
					     &verdict->recipients) != NULL) {
			verdict->action = READRECEIPT_ACTION_SUPPRESS;
			verdict->reason = READRECEIPT_REASON_RECIPIENT_NOT_ALLOWED;
			return;
		}
		consent = set->prompt;
		break;
	case READRECEIPT_MODE_ANY:
		consent = TRUE;
		break;
	default:
		i_unreached();
	}

	verdict->consent_required =
		policy_consent_forced(msg, &verdict->recipients);
	if (verdict->consent_required || msg->has_mdnask)
		consent = TRUE;

	if (session_can_prompt) {
		/* the client asks the user itself; never send behind its
		   back, even when no consent would be needed */
		verdict->action = READRECEIPT_ACTION_QUEUE;
		verdict->reason = READRECEIPT_REASON_PROMPT;
		return;
	}
	if (!consent) {
		verdict->action = READRECEIPT_ACTION_SEND;
		verdict->reason = READRECEIPT_REASON_AUTOMATIC;
		return;
	}

	switch (set->unprompted) {
	case READRECEIPT_UNPROMPTED_SEND:
		if (!verdict->consent_required) {
			verdict->action = READRECEIPT_ACTION_SEND;
			verdict->reason = READRECEIPT_REASON_UNPROMPTED_SEND;
			return;
		}
		/* RFC 8098 §2.1 consent cannot be waived by the
		   administrator: wait for it like "defer", and where
		   nothing can wait, say that consent is what is missing */
		verdict->action = queue_available ?
			READRECEIPT_ACTION_QUEUE : READRECEIPT_ACTION_IGNORE;
		break;
	case READRECEIPT_UNPROMPTED_DEFER:
		if (!queue_available) {
			verdict->action = READRECEIPT_ACTION_IGNORE;
			verdict->reason = READRECEIPT_REASON_DEFER_UNAVAILABLE;
			return;
		}
		verdict->action = READRECEIPT_ACTION_QUEUE;
		break;
	case READRECEIPT_UNPROMPTED_IGNORE:
		verdict->action = READRECEIPT_ACTION_IGNORE;
		break;
	default:
		i_unreached();
	}
	verdict->reason = verdict->consent_required ?
		READRECEIPT_REASON_CONSENT_REQUIRED : READRECEIPT_REASON_UNPROMPTED;
}

void readreceipt_policy_decide(const struct readreceipt_settings *set,
			       const struct readreceipt_message *msg,
			       bool session_can_prompt, bool queue_available,
			       pool_t pool,
			       struct readreceipt_verdict *verdict_r)
{
	struct policy_request req;

	/* No data stack frame of our own here: pool may be a data stack
	   pool of the caller's frame, which must not be grown from an inner
	   frame. What is allocated temporarily is small and bounded. */
	i_zero(verdict_r);
	p_array_init(&verdict_r->recipients, pool, 4);
	verdict_r->action = READRECEIPT_ACTION_NONE;

	if (policy_header_count(msg->disposition_notification_to) == 0)
		return;

	i_zero(&req);
	req.addrs = &verdict_r->recipients;
	policy_parse_request(msg, &req);

	verdict_r->reason = policy_check_eligibility(set, msg, &req);
	if (verdict_r->reason != NULL) {
		verdict_r->action = READRECEIPT_ACTION_SUPPRESS;
		return;
	}
	policy_decide_eligible(set, msg, session_can_prompt, queue_available,
			       verdict_r);
	i_assert(verdict_r->action != READRECEIPT_ACTION_NONE);
	i_assert(verdict_r->reason != NULL);
}

bool readreceipt_policy_requested(const struct readreceipt_settings *set,
				  const struct readreceipt_message *msg)
{
	ARRAY_TYPE(const_string) addrs;
	struct policy_request req;
	bool requested;

	if (policy_header_count(msg->disposition_notification_to) == 0)
		return FALSE;

	T_BEGIN {
		t_array_init(&addrs, 4);
		i_zero(&req);
		req.addrs = &addrs;
		policy_parse_request(msg, &req);
		requested = policy_check_eligibility(set, msg, &req) == NULL;
	} T_END;
	return requested;
}

void readreceipt_policy_request_addresses(
	const struct readreceipt_message *msg,
	ARRAY_TYPE(const_string) *addrs)
{
	struct policy_request req;

	if (policy_header_count(msg->disposition_notification_to) == 0)
		return;
	i_zero(&req);
	req.addrs = addrs;
	policy_parse_request(msg, &req);
}

const char *readreceipt_action_to_decision(enum readreceipt_action action)
{
	switch (action) {
	case READRECEIPT_ACTION_NONE:
		return NULL;
	case READRECEIPT_ACTION_SUPPRESS:
		return "suppressed";
	case READRECEIPT_ACTION_SEND:
		return "sent";
	case READRECEIPT_ACTION_QUEUE:
		return "queued";
	case READRECEIPT_ACTION_IGNORE:
		return "ignored";
	}
	i_unreached();
}

bool readreceipt_policy_hide_at_delivery(
	const struct readreceipt_verdict *verdict)
{
	return verdict->action == READRECEIPT_ACTION_SUPPRESS &&
		strcmp(verdict->reason, READRECEIPT_REASON_ALREADY_SENT) != 0 &&
		strcmp(verdict->reason, READRECEIPT_REASON_EXCLUDED_MAILBOX) != 0;
}

const char *
readreceipt_policy_outgoing_receipt(const struct readreceipt_settings *set,
				    const ARRAY_TYPE(const_string) *recipients,
				    const char **recipient_r)
{
	*recipient_r = NULL;
	if (set->error != NULL)
		return READRECEIPT_REASON_INVALID_SETTINGS;
	switch (set->mode) {
	case READRECEIPT_MODE_DISABLED:
		return READRECEIPT_REASON_MODE_DISABLED;
	case READRECEIPT_MODE_INTERNAL:
		*recipient_r = policy_first_not_allowed(set, recipients);
		return *recipient_r == NULL ? NULL :
			READRECEIPT_REASON_RECIPIENT_NOT_ALLOWED;
	case READRECEIPT_MODE_ANY:
		return NULL;
	}
	i_unreached();
}

enum readreceipt_request
readreceipt_policy_outgoing_request(const struct readreceipt_settings *set,
				    const char **reason_r)
{
	if (set->error != NULL)
		*reason_r = READRECEIPT_REASON_INVALID_SETTINGS;
	else if (set->mode == READRECEIPT_MODE_DISABLED)
		*reason_r = READRECEIPT_REASON_MODE_DISABLED;
	else {
		*reason_r = NULL;
		return READRECEIPT_REQUEST_ALLOW;
	}
	return set->request;
}
