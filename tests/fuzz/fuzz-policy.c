/* Copyright (c) dovecot-readreceipt authors */

/* libFuzzer target: the header fields a message brings, as the policy
   reads them (readreceipt_policy_decide(), readreceipt_policy_requested()),
   and the address parser on the raw input.

   The input is a header block: "Name: value" lines separated by LF (a CR
   before it is dropped). A line that starts with a space or a tab
   continues the previous field, which is unfolded as Dovecot's
   mail_get_headers() unfolds it. Fields the policy does not read are
   ignored, except:
     List-*        any of them sets has_list_header
     X-Fuzz-Flags  words that set the rest of the policy's input:
                   $MDNSent $MDNAsk excluded prompt noqueue

   Besides crashes, the target checks what the policy promises: a verdict
   for every message that asks for a receipt and none for the others,
   readreceipt_policy_requested() agreeing with the verdict, and no
   automatic receipt where RFC 8098 §2.1 demands consent or to a
   recipient that mode internal does not allow. */

#include "fuzz-common.h"
#include "array.h"
#include "str.h"
#include "readreceipt-settings.h"
#include "readreceipt-address.h"
#include "readreceipt-policy.h"

#define FUZZ_USERNAME "user@example.com"
#define FUZZ_HOSTNAME "mx.example.com"

enum fuzz_header {
	FUZZ_HDR_DNT = 0,
	FUZZ_HDR_DNO,
	FUZZ_HDR_RETURN_PATH,
	FUZZ_HDR_TO,
	FUZZ_HDR_CC,
	FUZZ_HDR_CONTENT_TYPE,
	FUZZ_HDR_AUTO_SUBMITTED,
	FUZZ_HDR_PRECEDENCE,

	FUZZ_HDR_COUNT
};

/* indexed by enum fuzz_header */
static const char *const fuzz_header_names[FUZZ_HDR_COUNT] = {
	"Disposition-Notification-To",
	"Disposition-Notification-Options",
	"Return-Path",
	"To",
	"Cc",
	"Content-Type",
	"Auto-Submitted",
	"Precedence",
};

/* The eligibility reasons (SPEC §3), for which
   readreceipt_policy_requested() is FALSE although a receipt was asked
   for. */
static const char *const fuzz_ineligible_reasons[] = {
	"already_sent", "excluded_mailbox", "report", "auto_submitted",
	"mailing_list", "not_addressed_to_user", "own_message",
	"invalid_request", NULL
};

/* Valid policies that reach every step of the decision: automatic
   receipts within the organisation, receipts to anyone with consent, and
   prompts with an explicit user address. Name/value pairs. */
static const char *const fuzz_policy_internal[] = {
	"readreceipt_mode", "internal",
	"readreceipt_domains", "example.com .example.org",
	"readreceipt_allow",
		"partner@example.net @supplier.example \"q.l\"@example.net",
	"readreceipt_prompt", "no",
	"readreceipt_unprompted", "send",
	NULL
};
static const char *const fuzz_policy_any[] = {
	"readreceipt_mode", "any",
	"readreceipt_unprompted", "defer",
	NULL
};
static const char *const fuzz_policy_prompt[] = {
	"readreceipt_mode", "internal",
	"readreceipt_prompt", "yes",
	"readreceipt_unprompted", "ignore",
	"readreceipt_user_email", "User.Name+tag@Example.COM",
	NULL
};
static const char *const *const fuzz_policies[] = {
	fuzz_policy_internal, fuzz_policy_any, fuzz_policy_prompt,
};

static struct readreceipt_settings *fuzz_settings[N_ELEMENTS(fuzz_policies)];

struct fuzz_message {
	ARRAY_TYPE(const_string) headers[FUZZ_HDR_COUNT];
	bool has_list_header;
	bool has_mdnsent, has_mdnask, excluded_mailbox;
	bool can_prompt, no_queue;

	/* the values, each a heap block of its own (see fuzz_strndup()) */
	ARRAY(char *) values;
};

static const char *fuzz_lookup(const char *name, void *context)
{
	const char *const *pairs = context;

	for (; pairs[0] != NULL; pairs += 2) {
		if (strcmp(pairs[0], name) == 0)
			return pairs[1];
	}
	return NULL;
}

int LLVMFuzzerInitialize(int *argc ATTR_UNUSED, char ***argv ATTR_UNUSED)
{
	pool_t pool;
	const char *error;
	unsigned int i;

	fuzz_init();
	pool = pool_alloconly_create("fuzz policy settings", 2048);
	for (i = 0; i < N_ELEMENTS(fuzz_policies); i++) {
		if (readreceipt_settings_parse(pool, fuzz_lookup,
					       (void *)fuzz_policies[i],
					       FUZZ_USERNAME, FUZZ_HOSTNAME,
					       &fuzz_settings[i], &error) < 0)
			i_fatal("fuzz policy %u: %s", i, error);
	}
	return 0;
}

static void
fuzz_message_flags(struct fuzz_message *msg, const char *value)
{
	const char *const *word;

	for (word = t_strsplit_spaces(value, " \t"); *word != NULL; word++) {
		if (strcasecmp(*word, "$MDNSent") == 0)
			msg->has_mdnsent = TRUE;
		else if (strcasecmp(*word, "$MDNAsk") == 0)
			msg->has_mdnask = TRUE;
		else if (strcasecmp(*word, "excluded") == 0)
			msg->excluded_mailbox = TRUE;
		else if (strcasecmp(*word, "prompt") == 0)
			msg->can_prompt = TRUE;
		else if (strcasecmp(*word, "noqueue") == 0)
			msg->no_queue = TRUE;
	}
}

static void
fuzz_message_field(struct fuzz_message *msg, string_t *field)
{
	const char *data = str_c(field), *colon, *name, *value;
	char *copy;
	size_t name_len;
	unsigned int i;

	colon = strchr(data, ':');
	if (colon == NULL)
		return;
	name_len = colon - data;
	while (name_len > 0 &&
	       (data[name_len-1] == ' ' || data[name_len-1] == '\t'))
		name_len--;
	name = t_strndup(data, name_len);
	value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;

	/* any List-* field stands for the seven that the storage module
	   looks for (RFC 2369, RFC 2919) */
	if (strncasecmp(name, "List-", 5) == 0) {
		msg->has_list_header = TRUE;
		return;
	}
	if (strcasecmp(name, "X-Fuzz-Flags") == 0) {
		fuzz_message_flags(msg, value);
		return;
	}
	for (i = 0; i < FUZZ_HDR_COUNT; i++) {
		if (strcasecmp(name, fuzz_header_names[i]) == 0)
			break;
	}
	if (i == FUZZ_HDR_COUNT)
		return;

	copy = fuzz_strndup(value, strlen(value));
	array_push_back(&msg->values, &copy);
	array_push_back(&msg->headers[i], (const char **)&copy);
}

static void
fuzz_message_parse(struct fuzz_message *msg, const char *data, size_t size)
{
	string_t *field = t_str_new(256);
	const char *end = data + size, *line_end;
	size_t len;
	unsigned int i;

	i_zero(msg);
	for (i = 0; i < FUZZ_HDR_COUNT; i++)
		t_array_init(&msg->headers[i], 2);
	t_array_init(&msg->values, 8);

	while (data < end) {
		line_end = memchr(data, '\n', end - data);
		if (line_end == NULL)
			line_end = end;
		len = line_end - data;
		if (len > 0 && data[len-1] == '\r')
			len--;
		if (len > 0 && (data[0] == ' ' || data[0] == '\t') &&
		    str_len(field) > 0) {
			/* unfolded: the line end goes, the blank stays */
			str_append_data(field, data, len);
		} else {
			if (str_len(field) > 0)
				fuzz_message_field(msg, field);
			str_truncate(field, 0);
			str_append_data(field, data, len);
		}
		if (line_end == end)
			break;
		data = line_end + 1;
	}
	if (str_len(field) > 0)
		fuzz_message_field(msg, field);
}

static void
fuzz_message_fill(struct fuzz_message *fmsg, struct readreceipt_message *msg)
{
	const char *const *values[FUZZ_HDR_COUNT];
	unsigned int i;

	for (i = 0; i < FUZZ_HDR_COUNT; i++) {
		if (array_count(&fmsg->headers[i]) == 0)
			values[i] = NULL;
		else {
			array_append_zero(&fmsg->headers[i]);
			values[i] = array_front(&fmsg->headers[i]);
		}
	}

	i_zero(msg);
	msg->disposition_notification_to = values[FUZZ_HDR_DNT];
	msg->disposition_notification_options = values[FUZZ_HDR_DNO];
	msg->return_path = values[FUZZ_HDR_RETURN_PATH];
	msg->to = values[FUZZ_HDR_TO];
	msg->cc = values[FUZZ_HDR_CC];
	msg->content_type = values[FUZZ_HDR_CONTENT_TYPE];
	msg->auto_submitted = values[FUZZ_HDR_AUTO_SUBMITTED];
	msg->precedence = values[FUZZ_HDR_PRECEDENCE];
	msg->has_list_header = fmsg->has_list_header;
	msg->has_mdnsent = fmsg->has_mdnsent;
	msg->has_mdnask = fmsg->has_mdnask;
	msg->excluded_mailbox = fmsg->excluded_mailbox;
}

/* A normalized address: "local@domain", neither part empty, the domain
   without ASCII capitals. */
static void fuzz_check_normalized(const char *addr)
{
	const char *domain = readreceipt_address_domain(addr);
	const char *p;

	i_assert(strchr(addr, '@') != NULL);
	i_assert(addr[0] != '@');
	i_assert(domain[0] != '\0');
	for (p = domain; *p != '\0'; p++)
		i_assert(*p < 'A' || *p > 'Z');
	i_assert(readreceipt_address_equals(addr, addr));
}

static void
fuzz_check_verdict(const struct readreceipt_settings *set,
		   const struct readreceipt_message *msg, bool can_prompt,
		   const struct readreceipt_verdict *verdict)
{
	const char *const *addrs;
	unsigned int i, j, count;
	bool requested;

	/* a verdict exactly for the messages that ask for a receipt */
	if (msg->disposition_notification_to == NULL) {
		i_assert(verdict->action == READRECEIPT_ACTION_NONE);
		i_assert(verdict->reason == NULL);
		i_assert(!readreceipt_policy_requested(set, msg));
		return;
	}
	i_assert(verdict->action != READRECEIPT_ACTION_NONE);
	i_assert(verdict->reason != NULL);
	i_assert(readreceipt_action_to_decision(verdict->action) != NULL);
	(void)readreceipt_policy_hide_at_delivery(verdict);

	/* distinct, normalized recipients */
	addrs = array_get(&verdict->recipients, &count);
	for (i = 0; i < count; i++) {
		fuzz_check_normalized(addrs[i]);
		for (j = 0; j < i; j++)
			i_assert(!readreceipt_address_equals(addrs[i], addrs[j]));
	}

	/* readreceipt_policy_requested(): a request that the policy
	   considered, whatever it then decided */
	requested = !str_array_find(fuzz_ineligible_reasons, verdict->reason);
	i_assert(readreceipt_policy_requested(set, msg) == requested);

	if (verdict->action == READRECEIPT_ACTION_SEND) {
		/* never behind a prompting client's back, never without
		   consent that RFC 8098 §2.1 demands, never to an address
		   that mode internal does not allow */
		i_assert(!can_prompt);
		i_assert(!verdict->consent_required);
		i_assert(count == 1);
		i_assert(set->mode != READRECEIPT_MODE_DISABLED);
		/* where the user is to be asked, only
		   readreceipt_unprompted = send sends without asking */
		if (set->mode == READRECEIPT_MODE_ANY || set->prompt ||
		    msg->has_mdnask) {
			i_assert(set->unprompted ==
				 READRECEIPT_UNPROMPTED_SEND);
			i_assert(strcmp(verdict->reason,
					"unprompted_send") == 0);
		}
		if (set->mode == READRECEIPT_MODE_INTERNAL) {
			i_assert(readreceipt_policy_recipient_allowed(set,
								addrs[0]));
		}
	}
}

/* The address parser directly, on the whole input. */
static void fuzz_addresses(const char *value)
{
	ARRAY_TYPE(const_string) addrs;
	const char *addr, *error;
	int ret;

	t_array_init(&addrs, 4);
	ret = readreceipt_address_parse_list(value, &addrs);
	if (ret >= 0) {
		i_assert((unsigned int)ret == array_count(&addrs));
		i_assert(ret <= READRECEIPT_ADDRESS_MAX_PER_HEADER);
	}
	array_foreach_elem(&addrs, addr) {
		fuzz_check_normalized(addr);
		(void)readreceipt_domain_matches(
			readreceipt_address_domain(addr),
			&fuzz_settings[0]->domains);
		(void)readreceipt_allow_matches(addr,
						&fuzz_settings[0]->allow);
	}

	if (readreceipt_address_normalize(value, &addr, &error) == 0)
		fuzz_check_normalized(addr);
	else
		i_assert(error != NULL);

	if (readreceipt_address_parse_path(value, &addr) == 0 &&
	    addr[0] != '\0')
		fuzz_check_normalized(addr);
}

static void fuzz_policy_input(const uint8_t *data, size_t size)
{
	struct fuzz_message fmsg;
	struct readreceipt_message msg;
	struct readreceipt_verdict verdict;
	char *raw, *value;
	unsigned int i;

	raw = fuzz_strndup(data, size);
	fuzz_addresses(raw);

	fuzz_message_parse(&fmsg, raw, strlen(raw));
	fuzz_message_fill(&fmsg, &msg);
	for (i = 0; i < N_ELEMENTS(fuzz_settings); i++) {
		readreceipt_policy_decide(fuzz_settings[i], &msg,
					  fmsg.can_prompt, !fmsg.no_queue,
					  pool_datastack_create(), &verdict);
		fuzz_check_verdict(fuzz_settings[i], &msg, fmsg.can_prompt,
				   &verdict);
	}

	array_foreach_elem(&fmsg.values, value)
		free(value);
	free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	T_BEGIN {
		fuzz_policy_input(data, size);
	} T_END;
	return 0;
}
