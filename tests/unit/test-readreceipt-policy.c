/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "array.h"
#include "str.h"
#include "readreceipt-settings.h"
#include "readreceipt-policy.h"

/* Header lists as the policy gets them: every instance of a header. A
   field left NULL in a case takes the default of test_default_message;
   NO_HDR removes the header. */
#define HDR(...) ((const char *const []){ __VA_ARGS__, NULL })
#define NO_HDR ((const char *const []){ NULL })
/* settings as "name=value" strings */
#define SET(...) ((const char *const []){ __VA_ARGS__, NULL })

#define USER "user@example.com"

/* A message that asks for a receipt correctly: the requester is the
   envelope sender, the user is in To. */
static const char *const test_default_dnt[] = {
	"Alice <alice@example.com>", NULL
};
static const char *const test_default_return_path[] = {
	"<alice@example.com>", NULL
};
static const char *const test_default_to[] = {
	"User <user@example.com>, Other <other@example.com>", NULL
};

struct policy_case {
	const char *name;

	/* settings over the defaults; readreceipt_user_email comes from
	   the username unless a case sets it */
	const char *const *settings;
	/* TRUE: the username is not an address, so there is no
	   readreceipt_user_email */
	bool no_user_email;

	const char *const *dnt, *const *dno, *const *return_path;
	const char *const *to, *const *cc;
	const char *const *content_type, *const *auto_submitted;
	const char *const *precedence;
	bool has_list_header, has_mdnsent, has_mdnask, excluded_mailbox;

	bool can_prompt;
	/* inverted so that the usual case needs no field */
	bool no_queue;

	enum readreceipt_action action;
	const char *reason;
	bool consent_required;
	/* expected recipients joined with " "; NULL: none */
	const char *recipients;
};

static const char *
test_setting_lookup(const char *name, void *context)
{
	const char *const *settings = context;
	size_t len = strlen(name);

	if (settings == NULL)
		return NULL;
	for (; *settings != NULL; settings++) {
		if (strncmp(*settings, name, len) == 0 &&
		    (*settings)[len] == '=')
			return *settings + len + 1;
	}
	return NULL;
}

static const char *const *
test_hdr(const char *const *value, const char *const *default_value)
{
	return value == NULL ? default_value : value;
}

static const char *
test_join(const ARRAY_TYPE(const_string) *addrs)
{
	string_t *str = t_str_new(128);
	const char *addr;

	array_foreach_elem(addrs, addr) {
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, addr);
	}
	return str_len(str) == 0 ? NULL : str_c(str);
}

static const char *test_action_name(enum readreceipt_action action)
{
	switch (action) {
	case READRECEIPT_ACTION_NONE:
		return "NONE";
	case READRECEIPT_ACTION_SUPPRESS:
		return "SUPPRESS";
	case READRECEIPT_ACTION_SEND:
		return "SEND";
	case READRECEIPT_ACTION_QUEUE:
		return "QUEUE";
	case READRECEIPT_ACTION_IGNORE:
		return "IGNORE";
	}
	return "?";
}

/* the reasons of SPEC §3: the message is not eligible at all */
static const char *const test_ineligible_reasons[] = {
	"already_sent", "excluded_mailbox", "report", "auto_submitted",
	"mailing_list", "not_addressed_to_user", "own_message",
	"invalid_request", NULL
};

static void test_run_case(const struct policy_case *c)
{
	struct readreceipt_settings *set;
	struct readreceipt_message msg;
	struct readreceipt_verdict verdict;
	const char *error, *recipients;
	bool requested;
	pool_t pool;

	pool = pool_alloconly_create("test policy", 4096);
	(void)readreceipt_settings_parse(pool, test_setting_lookup,
					 (void *)c->settings,
					 c->no_user_email ? "user" : USER,
					 "mx.example.com", &set, &error);

	i_zero(&msg);
	msg.disposition_notification_to = test_hdr(c->dnt, test_default_dnt);
	msg.disposition_notification_options = test_hdr(c->dno, NULL);
	msg.return_path = test_hdr(c->return_path, test_default_return_path);
	msg.to = test_hdr(c->to, test_default_to);
	msg.cc = test_hdr(c->cc, NULL);
	msg.content_type = test_hdr(c->content_type, NULL);
	msg.auto_submitted = test_hdr(c->auto_submitted, NULL);
	msg.precedence = test_hdr(c->precedence, NULL);
	msg.has_list_header = c->has_list_header;
	msg.has_mdnsent = c->has_mdnsent;
	msg.has_mdnask = c->has_mdnask;
	msg.excluded_mailbox = c->excluded_mailbox;

	readreceipt_policy_decide(set, &msg, c->can_prompt, !c->no_queue,
				  pool, &verdict);

	if (verdict.action != c->action) {
		fail_msg("case \"%s\": action: expected %s, got %s "
			 "(reason %s)", c->name, test_action_name(c->action),
			 test_action_name(verdict.action),
			 verdict.reason == NULL ? "(null)" : verdict.reason);
	}
	if (null_strcmp(verdict.reason, c->reason) != 0) {
		fail_msg("case \"%s\": reason: expected %s, got %s", c->name,
			 c->reason == NULL ? "(null)" : c->reason,
			 verdict.reason == NULL ? "(null)" : verdict.reason);
	}
	if (verdict.consent_required != c->consent_required) {
		fail_msg("case \"%s\": consent_required: expected %d, got %d",
			 c->name, c->consent_required ? 1 : 0,
			 verdict.consent_required ? 1 : 0);
	}
	/* Sieve's readreceipt_requested answers "considered at all": a
	   decision other than "no request" or an eligibility suppression */
	requested = verdict.action != READRECEIPT_ACTION_NONE &&
		!str_array_find(test_ineligible_reasons, verdict.reason);
	if (readreceipt_policy_requested(set, &msg) != requested) {
		fail_msg("case \"%s\": requested: expected %d (reason %s)",
			 c->name, requested ? 1 : 0,
			 verdict.reason == NULL ? "(null)" : verdict.reason);
	}
	recipients = test_join(&verdict.recipients);
	if (null_strcmp(recipients, c->recipients) != 0) {
		fail_msg("case \"%s\": recipients: expected \"%s\", got \"%s\"",
			 c->name,
			 c->recipients == NULL ? "(none)" : c->recipients,
			 recipients == NULL ? "(none)" : recipients);
	}
	pool_unref(&pool);
}

static void test_run_cases(const struct policy_case *cases, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) T_BEGIN {
		test_run_case(&cases[i]);
	} T_END;
}

/* settings under which an eligible message is sent automatically */
#define SET_AUTOMATIC SET("readreceipt_mode=internal", "readreceipt_prompt=no")

/* SPEC §3: whether a message asks for a receipt and is eligible. Every
   case runs with settings that would send automatically, so anything but
   SEND comes from eligibility. */
static const struct policy_case eligibility_cases[] = {
	{ .name = "eligible",
	  .settings = SET_AUTOMATIC,
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "no Disposition-Notification-To",
	  .settings = SET_AUTOMATIC, .dnt = NO_HDR,
	  .action = READRECEIPT_ACTION_NONE, .reason = NULL },
	{ .name = "no request, but everything else forbidden",
	  .settings = SET_AUTOMATIC, .dnt = NO_HDR, .has_mdnsent = TRUE,
	  .content_type = HDR("multipart/report"),
	  .action = READRECEIPT_ACTION_NONE, .reason = NULL },

	/* already_sent */
	{ .name = "$MDNSent",
	  .settings = SET_AUTOMATIC, .has_mdnsent = TRUE,
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "already_sent",
	  .recipients = "alice@example.com" },

	/* excluded_mailbox */
	{ .name = "excluded mailbox",
	  .settings = SET_AUTOMATIC, .excluded_mailbox = TRUE,
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "excluded_mailbox",
	  .recipients = "alice@example.com" },

	/* report */
	{ .name = "MDN",
	  .settings = SET_AUTOMATIC,
	  .content_type = HDR("multipart/report; "
			      "report-type=disposition-notification; "
			      "boundary=\"b\""),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "report",
	  .recipients = "alice@example.com" },
	{ .name = "DSN, type in other case, folded",
	  .settings = SET_AUTOMATIC,
	  .content_type = HDR("Multipart/REPORT;\r\n\treport-type="
			      "delivery-status; boundary=x"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "report",
	  .recipients = "alice@example.com" },
	{ .name = "report with comments and spaces",
	  .settings = SET_AUTOMATIC,
	  .content_type = HDR(" (a comment) multipart/report (x) ; a=b"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "report",
	  .recipients = "alice@example.com" },
	{ .name = "report in the second Content-Type",
	  .settings = SET_AUTOMATIC,
	  .content_type = HDR("text/plain", "multipart/report"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "report",
	  .recipients = "alice@example.com" },
	{ .name = "multipart/report only in a parameter",
	  .settings = SET_AUTOMATIC,
	  .content_type = HDR("multipart/mixed; "
			      "boundary=\"multipart/report\""),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "multipart/report as a name",
	  .settings = SET_AUTOMATIC,
	  .content_type = HDR("text/plain; name=multipart/report"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "multipart/reports is another type",
	  .settings = SET_AUTOMATIC,
	  .content_type = HDR("multipart/reports"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "message/disposition-notification is not the report",
	  .settings = SET_AUTOMATIC,
	  .content_type = HDR("message/disposition-notification"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "unparsable Content-Type",
	  .settings = SET_AUTOMATIC,
	  .content_type = HDR("multipart report"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },

	/* auto_submitted */
	{ .name = "Auto-Submitted: auto-replied",
	  .settings = SET_AUTOMATIC, .auto_submitted = HDR("auto-replied"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "auto_submitted",
	  .recipients = "alice@example.com" },
	{ .name = "Auto-Submitted: auto-generated with comment",
	  .settings = SET_AUTOMATIC,
	  .auto_submitted = HDR("Auto-Generated (by a robot)"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "auto_submitted",
	  .recipients = "alice@example.com" },
	{ .name = "Auto-Submitted: unknown keyword",
	  .settings = SET_AUTOMATIC, .auto_submitted = HDR("auto-notified"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "auto_submitted",
	  .recipients = "alice@example.com" },
	{ .name = "Auto-Submitted: nope",
	  .settings = SET_AUTOMATIC, .auto_submitted = HDR("nope"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "auto_submitted",
	  .recipients = "alice@example.com" },
	{ .name = "Auto-Submitted: empty",
	  .settings = SET_AUTOMATIC, .auto_submitted = HDR(""),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "auto_submitted",
	  .recipients = "alice@example.com" },
	{ .name = "Auto-Submitted: no, then auto-replied",
	  .settings = SET_AUTOMATIC,
	  .auto_submitted = HDR("no", "auto-replied"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "auto_submitted",
	  .recipients = "alice@example.com" },
	{ .name = "Auto-Submitted: no",
	  .settings = SET_AUTOMATIC, .auto_submitted = HDR("no"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "Auto-Submitted: NO with comment",
	  .settings = SET_AUTOMATIC,
	  .auto_submitted = HDR(" NO (a person wrote this)"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "Auto-Submitted: no with parameter",
	  .settings = SET_AUTOMATIC,
	  .auto_submitted = HDR("no; reason=\"x\""),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },

	/* mailing_list */
	{ .name = "List-Id",
	  .settings = SET_AUTOMATIC, .has_list_header = TRUE,
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "mailing_list",
	  .recipients = "alice@example.com" },
	{ .name = "Precedence: bulk",
	  .settings = SET_AUTOMATIC, .precedence = HDR("bulk"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "mailing_list",
	  .recipients = "alice@example.com" },
	{ .name = "Precedence: List",
	  .settings = SET_AUTOMATIC, .precedence = HDR("List"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "mailing_list",
	  .recipients = "alice@example.com" },
	{ .name = "Precedence: JUNK with comment",
	  .settings = SET_AUTOMATIC, .precedence = HDR(" JUNK (spam)"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "mailing_list",
	  .recipients = "alice@example.com" },
	{ .name = "Precedence: first-class",
	  .settings = SET_AUTOMATIC, .precedence = HDR("first-class"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "Precedence: bulky",
	  .settings = SET_AUTOMATIC, .precedence = HDR("bulky"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },

	/* not_addressed_to_user */
	{ .name = "user not in To or Cc",
	  .settings = SET_AUTOMATIC, .to = HDR("team@example.com"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "not_addressed_to_user",
	  .recipients = "alice@example.com" },
	{ .name = "no To or Cc",
	  .settings = SET_AUTOMATIC, .to = NO_HDR,
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "not_addressed_to_user",
	  .recipients = "alice@example.com" },
	{ .name = "no readreceipt_user_email",
	  .settings = SET_AUTOMATIC, .no_user_email = TRUE,
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "not_addressed_to_user",
	  .recipients = "alice@example.com" },
	{ .name = "user only in Cc",
	  .settings = SET_AUTOMATIC, .to = HDR("team@example.com"),
	  .cc = HDR("x@example.org", "\"The User\" <user@example.com>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "user in the second To",
	  .settings = SET_AUTOMATIC,
	  .to = HDR("team@example.com", "user@example.com"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "user in To, domain in other case",
	  .settings = SET_AUTOMATIC, .to = HDR("<user@EXAMPLE.Com>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "user in a group in To",
	  .settings = SET_AUTOMATIC,
	  .to = HDR("friends: user@example.com, x@example.com;"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "only a similar address in To",
	  .settings = SET_AUTOMATIC,
	  .to = HDR("user@example.com.evil.test, xuser@example.com"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "not_addressed_to_user",
	  .recipients = "alice@example.com" },
	{ .name = "user only named in a display name",
	  .settings = SET_AUTOMATIC,
	  .to = HDR("\"user@example.com\" <list@example.com>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "not_addressed_to_user",
	  .recipients = "alice@example.com" },

	/* own_message */
	{ .name = "the user asks for a receipt",
	  .settings = SET_AUTOMATIC, .dnt = HDR("User <user@example.com>"),
	  .return_path = HDR("<user@example.com>"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "own_message",
	  .recipients = "user@example.com" },
	{ .name = "the user among the requested, domain case",
	  .settings = SET_AUTOMATIC,
	  .dnt = HDR("alice@example.com, user@Example.COM"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "own_message",
	  .recipients = "alice@example.com user@example.com" },

	/* invalid_request */
	{ .name = "two Disposition-Notification-To: neither is parsed",
	  .settings = SET_AUTOMATIC,
	  .dnt = HDR("alice@example.com", "bob@example.com"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request" },
	{ .name = "two Disposition-Notification-To naming the user",
	  .settings = SET_AUTOMATIC,
	  .dnt = HDR("user@example.com", "alice@example.com"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request" },
	{ .name = "options: two Disposition-Notification-Options",
	  .settings = SET_AUTOMATIC,
	  .dno = HDR("a=optional,x", "b=optional,y"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "empty Disposition-Notification-To",
	  .settings = SET_AUTOMATIC, .dnt = HDR(""),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request" },
	{ .name = "not an address",
	  .settings = SET_AUTOMATIC, .dnt = HDR("alice"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request" },
	{ .name = "syntax error after an address",
	  .settings = SET_AUTOMATIC, .dnt = HDR("alice@example.com <<<"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request" },
	{ .name = "unterminated comment",
	  .settings = SET_AUTOMATIC, .dnt = HDR("alice@example.com (x"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request" },
	{ .name = "only an empty group",
	  .settings = SET_AUTOMATIC, .dnt = HDR("undisclosed-recipients:;"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request" },
	{ .name = "options: required parameter",
	  .settings = SET_AUTOMATIC,
	  .dno = HDR("signed-receipt=required,pkcs7-signature"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: REQUIRED after an optional one",
	  .settings = SET_AUTOMATIC,
	  .dno = HDR("a=optional,x ; b = REQUIRED , y"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: required in the second header",
	  .settings = SET_AUTOMATIC,
	  .dno = HDR("a=optional,x", "b=required,y"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: unknown importance",
	  .settings = SET_AUTOMATIC, .dno = HDR("a=maybe,x"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: no value",
	  .settings = SET_AUTOMATIC, .dno = HDR("a=optional"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: empty value after a comma",
	  .settings = SET_AUTOMATIC, .dno = HDR("a=optional,"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: no '='",
	  .settings = SET_AUTOMATIC, .dno = HDR("optional"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: trailing ';'",
	  .settings = SET_AUTOMATIC, .dno = HDR("a=optional,x;"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: empty",
	  .settings = SET_AUTOMATIC, .dno = HDR(" "),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: unterminated quoted value",
	  .settings = SET_AUTOMATIC, .dno = HDR("a=optional,\"x"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: garbage after a value",
	  .settings = SET_AUTOMATIC, .dno = HDR("a=optional,x y"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request",
	  .recipients = "alice@example.com" },
	{ .name = "options: optional parameter is ignored",
	  .settings = SET_AUTOMATIC, .dno = HDR("x-unknown=optional,1"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "options: optional parameters with FWS and quoted values",
	  .settings = SET_AUTOMATIC,
	  .dno = HDR("a = Optional , \"x y\" ,z ;\r\n b=optional,\"\""),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },

	/* precedence of the reasons: each pair in the documented order */
	{ .name = "order: already_sent before excluded_mailbox",
	  .settings = SET_AUTOMATIC, .has_mdnsent = TRUE,
	  .excluded_mailbox = TRUE,
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "already_sent",
	  .recipients = "alice@example.com" },
	{ .name = "order: excluded_mailbox before report",
	  .settings = SET_AUTOMATIC, .excluded_mailbox = TRUE,
	  .content_type = HDR("multipart/report"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "excluded_mailbox",
	  .recipients = "alice@example.com" },
	{ .name = "order: report before auto_submitted",
	  .settings = SET_AUTOMATIC, .content_type = HDR("multipart/report"),
	  .auto_submitted = HDR("auto-replied"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "report",
	  .recipients = "alice@example.com" },
	{ .name = "order: auto_submitted before mailing_list",
	  .settings = SET_AUTOMATIC, .auto_submitted = HDR("auto-generated"),
	  .has_list_header = TRUE,
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "auto_submitted",
	  .recipients = "alice@example.com" },
	{ .name = "order: mailing_list before not_addressed_to_user",
	  .settings = SET_AUTOMATIC, .precedence = HDR("list"),
	  .to = HDR("list@example.com"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "mailing_list",
	  .recipients = "alice@example.com" },
	{ .name = "order: not_addressed_to_user before own_message",
	  .settings = SET_AUTOMATIC, .to = HDR("list@example.com"),
	  .dnt = HDR("user@example.com"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "not_addressed_to_user",
	  .recipients = "user@example.com" },
	{ .name = "order: own_message before invalid_request",
	  .settings = SET_AUTOMATIC,
	  .dnt = HDR("user@example.com, alice@example.com"),
	  .dno = HDR("a=required,x"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "own_message",
	  .recipients = "user@example.com alice@example.com" },
	{ .name = "order: a flag before invalid_request",
	  .settings = SET_AUTOMATIC, .has_mdnsent = TRUE, .dnt = HDR("x"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "already_sent" },
	{ .name = "order: invalid_request before the settings",
	  .settings = SET("readreceipt_mode=disabled"), .dnt = HDR("x"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_request" },
	{ .name = "order: eligibility before invalid settings",
	  .settings = SET("readreceipt_mode=sometimes"), .has_mdnsent = TRUE,
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "already_sent",
	  .recipients = "alice@example.com" },
};

/* SPEC §4 steps 1 and 2: invalid settings, mode, allowed recipients */
static const struct policy_case mode_cases[] = {
	{ .name = "invalid settings",
	  .settings = SET("readreceipt_mode=sometimes"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_settings",
	  .recipients = "alice@example.com" },
	{ .name = "invalid allow entry with mode any",
	  .settings = SET("readreceipt_mode=any", "readreceipt_allow=@@"),
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "invalid_settings",
	  .recipients = "alice@example.com" },
	{ .name = "mode disabled by default",
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "mode_disabled",
	  .recipients = "alice@example.com" },
	{ .name = "mode disabled, session can prompt",
	  .settings = SET("readreceipt_mode=disabled"), .can_prompt = TRUE,
	  .action = READRECEIPT_ACTION_SUPPRESS, .reason = "mode_disabled",
	  .recipients = "alice@example.com" },

	{ .name = "internal: the user's domain by default",
	  .settings = SET_AUTOMATIC,
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "internal: external recipient",
	  .settings = SET_AUTOMATIC, .dnt = HDR("bob@partner.org"),
	  .return_path = HDR("<bob@partner.org>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed", .recipients = "bob@partner.org" },
	{ .name = "internal: external recipient, session can prompt",
	  .settings = SET_AUTOMATIC, .dnt = HDR("bob@partner.org"),
	  .return_path = HDR("<bob@partner.org>"), .can_prompt = TRUE,
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed", .recipients = "bob@partner.org" },
	{ .name = "internal: subdomain of the user's domain",
	  .settings = SET_AUTOMATIC, .dnt = HDR("alice@sub.example.com"),
	  .return_path = HDR("<alice@sub.example.com>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed",
	  .recipients = "alice@sub.example.com" },
	{ .name = "internal: domain in other case",
	  .settings = SET_AUTOMATIC, .dnt = HDR("alice@EXAMPLE.COM"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "internal: one of two recipients external",
	  .settings = SET_AUTOMATIC,
	  .dnt = HDR("alice@example.com, bob@partner.org"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed",
	  .recipients = "alice@example.com bob@partner.org" },

	/* readreceipt_domains */
	{ .name = "domains: listed domain",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_domains=example.net, Example.ORG"),
	  .dnt = HDR("bob@example.org"),
	  .return_path = HDR("<bob@example.org>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "bob@example.org" },
	{ .name = "domains: replace the user's domain",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_domains=example.net"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed",
	  .recipients = "alice@example.com" },
	{ .name = "domains: plain entry does not cover subdomains",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_domains=example.org"),
	  .dnt = HDR("bob@mail.example.org"),
	  .return_path = HDR("<bob@mail.example.org>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed",
	  .recipients = "bob@mail.example.org" },
	{ .name = "domains: dot entry covers a subdomain",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_domains=.example.org"),
	  .dnt = HDR("bob@a.b.Example.org"),
	  .return_path = HDR("<bob@a.b.example.org>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "bob@a.b.example.org" },
	{ .name = "domains: dot entry covers the domain itself",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_domains=.example.org"),
	  .dnt = HDR("bob@example.org"),
	  .return_path = HDR("<bob@example.org>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "bob@example.org" },
	{ .name = "domains: dot entry is not a suffix match",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_domains=.example.org"),
	  .dnt = HDR("bob@badexample.org"),
	  .return_path = HDR("<bob@badexample.org>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed",
	  .recipients = "bob@badexample.org" },

	/* readreceipt_allow */
	{ .name = "allow: address",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_allow=carol@x.test bob@partner.org"),
	  .dnt = HDR("Bob <bob@partner.org>"),
	  .return_path = HDR("<bob@partner.org>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "bob@partner.org" },
	{ .name = "allow: address, domain in other case",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_allow=bob@Partner.ORG"),
	  .dnt = HDR("bob@PARTNER.org"),
	  .return_path = HDR("<bob@partner.org>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "bob@partner.org" },
	{ .name = "allow: address, local part in other case",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_allow=bob@partner.org"),
	  .dnt = HDR("Bob@partner.org"),
	  .return_path = HDR("<Bob@partner.org>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed", .recipients = "Bob@partner.org" },
	{ .name = "allow: another address of the domain",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_allow=bob@partner.org"),
	  .dnt = HDR("eve@partner.org"),
	  .return_path = HDR("<eve@partner.org>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed", .recipients = "eve@partner.org" },
	{ .name = "allow: @domain",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_allow=@Partner.org"),
	  .dnt = HDR("eve@partner.ORG"),
	  .return_path = HDR("<eve@partner.org>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "eve@partner.org" },
	{ .name = "allow: @domain does not cover subdomains",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_allow=@partner.org"),
	  .dnt = HDR("eve@eu.partner.org"),
	  .return_path = HDR("<eve@eu.partner.org>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed",
	  .recipients = "eve@eu.partner.org" },
	{ .name = "allow: internal and allowed together",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_allow=@partner.org"),
	  .dnt = HDR("alice@example.com, eve@partner.org"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE,
	  .recipients = "alice@example.com eve@partner.org" },

	/* mode any */
	{ .name = "any: external recipient, consent by default",
	  .settings = SET("readreceipt_mode=any"),
	  .dnt = HDR("bob@elsewhere.test"),
	  .return_path = HDR("<bob@elsewhere.test>"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "unprompted",
	  .recipients = "bob@elsewhere.test" },
	{ .name = "any: readreceipt_prompt=no does not matter",
	  .settings = SET("readreceipt_mode=any", "readreceipt_prompt=no"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "unprompted",
	  .recipients = "alice@example.com" },
};

/* SPEC §4 steps 3 to 6: consent, prompting sessions, unprompted */
static const struct policy_case consent_cases[] = {
	/* no consent needed */
	{ .name = "internal, prompt=no: automatic",
	  .settings = SET_AUTOMATIC,
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "internal, prompt=no, unprompted=ignore: automatic",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_unprompted=ignore"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "internal, prompt=no, no queue: automatic",
	  .settings = SET_AUTOMATIC, .no_queue = TRUE,
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "Return-Path matches, domain in other case",
	  .settings = SET_AUTOMATIC, .return_path = HDR("<alice@EXAMPLE.com>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "the same address twice is one recipient",
	  .settings = SET_AUTOMATIC,
	  .dnt = HDR("alice@example.com, Alice <alice@EXAMPLE.com>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },
	{ .name = "the first Return-Path counts",
	  .settings = SET_AUTOMATIC,
	  .return_path = HDR("<alice@example.com>", "<bounce@example.com>"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "automatic",
	  .recipients = "alice@example.com" },

	/* consent by settings (mode internal, prompt=yes), not §2.1 */
	{ .name = "prompt=yes, defer",
	  .settings = SET("readreceipt_mode=internal"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "unprompted",
	  .recipients = "alice@example.com" },
	{ .name = "prompt=yes, defer, no queue",
	  .settings = SET("readreceipt_mode=internal"), .no_queue = TRUE,
	  .action = READRECEIPT_ACTION_IGNORE, .reason = "defer_unavailable",
	  .recipients = "alice@example.com" },
	{ .name = "prompt=yes, send",
	  .settings = SET("readreceipt_mode=internal",
			  "readreceipt_unprompted=send"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "unprompted_send",
	  .recipients = "alice@example.com" },
	{ .name = "prompt=yes, send, no queue",
	  .settings = SET("readreceipt_mode=internal",
			  "readreceipt_unprompted=send"), .no_queue = TRUE,
	  .action = READRECEIPT_ACTION_SEND, .reason = "unprompted_send",
	  .recipients = "alice@example.com" },
	{ .name = "prompt=yes, ignore",
	  .settings = SET("readreceipt_mode=internal",
			  "readreceipt_unprompted=ignore"),
	  .action = READRECEIPT_ACTION_IGNORE, .reason = "unprompted",
	  .recipients = "alice@example.com" },
	{ .name = "mode any, send",
	  .settings = SET("readreceipt_mode=any",
			  "readreceipt_unprompted=send"),
	  .action = READRECEIPT_ACTION_SEND, .reason = "unprompted_send",
	  .recipients = "alice@example.com" },
	{ .name = "mode any, ignore",
	  .settings = SET("readreceipt_mode=any",
			  "readreceipt_unprompted=ignore"),
	  .action = READRECEIPT_ACTION_IGNORE, .reason = "unprompted",
	  .recipients = "alice@example.com" },

	/* consent by $MDNAsk */
	{ .name = "$MDNAsk, defer",
	  .settings = SET_AUTOMATIC, .has_mdnask = TRUE,
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "unprompted",
	  .recipients = "alice@example.com" },
	{ .name = "$MDNAsk, send",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_unprompted=send"),
	  .has_mdnask = TRUE,
	  .action = READRECEIPT_ACTION_SEND, .reason = "unprompted_send",
	  .recipients = "alice@example.com" },
	{ .name = "$MDNAsk, ignore",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_unprompted=ignore"),
	  .has_mdnask = TRUE,
	  .action = READRECEIPT_ACTION_IGNORE, .reason = "unprompted",
	  .recipients = "alice@example.com" },

	/* RFC 8098 §2.1, with settings that would send automatically */
	{ .name = "§2.1 no Return-Path, defer",
	  .settings = SET_AUTOMATIC, .return_path = NO_HDR,
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 no Return-Path, defer, no queue",
	  .settings = SET_AUTOMATIC, .return_path = NO_HDR, .no_queue = TRUE,
	  .action = READRECEIPT_ACTION_IGNORE, .reason = "defer_unavailable",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 no Return-Path, send",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_unprompted=send"),
	  .return_path = NO_HDR,
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 no Return-Path, send, no queue",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_unprompted=send"),
	  .return_path = NO_HDR, .no_queue = TRUE,
	  .action = READRECEIPT_ACTION_IGNORE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 no Return-Path, ignore",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_unprompted=ignore"),
	  .return_path = NO_HDR,
	  .action = READRECEIPT_ACTION_IGNORE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 Return-Path differs",
	  .settings = SET_AUTOMATIC,
	  .return_path = HDR("<bounces+alice@example.com>"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 Return-Path differs in the local part's case",
	  .settings = SET_AUTOMATIC, .return_path = HDR("<Alice@example.com>"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 null Return-Path",
	  .settings = SET_AUTOMATIC, .return_path = HDR("<>"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 unparsable Return-Path",
	  .settings = SET_AUTOMATIC, .return_path = HDR("<<alice"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 two addresses requested",
	  .settings = SET_AUTOMATIC,
	  .dnt = HDR("alice@example.com, carol@example.com"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE,
	  .recipients = "alice@example.com carol@example.com" },
	{ .name = "§2.1 two addresses requested, send",
	  .settings = SET("readreceipt_mode=internal", "readreceipt_prompt=no",
			  "readreceipt_unprompted=send"),
	  .dnt = HDR("alice@example.com, carol@example.com"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE,
	  .recipients = "alice@example.com carol@example.com" },
	{ .name = "§2.1 with mode any, send",
	  .settings = SET("readreceipt_mode=any",
			  "readreceipt_unprompted=send"),
	  .return_path = HDR("<mallory@example.net>"),
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 with mode any, ignore",
	  .settings = SET("readreceipt_mode=any",
			  "readreceipt_unprompted=ignore"),
	  .return_path = NO_HDR,
	  .action = READRECEIPT_ACTION_IGNORE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "§2.1 and $MDNAsk",
	  .settings = SET_AUTOMATIC, .has_mdnask = TRUE, .return_path = NO_HDR,
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "consent_required",
	  .consent_required = TRUE, .recipients = "alice@example.com" },

	/* a session that can prompt never sends */
	{ .name = "prompting session, no consent needed",
	  .settings = SET_AUTOMATIC, .can_prompt = TRUE,
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "prompt",
	  .recipients = "alice@example.com" },
	{ .name = "prompting session, prompt=yes",
	  .settings = SET("readreceipt_mode=internal"), .can_prompt = TRUE,
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "prompt",
	  .recipients = "alice@example.com" },
	{ .name = "prompting session, mode any, unprompted=send",
	  .settings = SET("readreceipt_mode=any",
			  "readreceipt_unprompted=send"),
	  .can_prompt = TRUE,
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "prompt",
	  .recipients = "alice@example.com" },
	{ .name = "prompting session, unprompted=ignore",
	  .settings = SET("readreceipt_mode=internal",
			  "readreceipt_unprompted=ignore"),
	  .can_prompt = TRUE,
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "prompt",
	  .recipients = "alice@example.com" },
	{ .name = "prompting session, §2.1",
	  .settings = SET_AUTOMATIC, .can_prompt = TRUE, .return_path = NO_HDR,
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "prompt",
	  .consent_required = TRUE, .recipients = "alice@example.com" },
	{ .name = "prompting session, no queue",
	  .settings = SET_AUTOMATIC, .can_prompt = TRUE, .no_queue = TRUE,
	  .action = READRECEIPT_ACTION_QUEUE, .reason = "prompt",
	  .recipients = "alice@example.com" },
};

static void test_policy_eligibility(void **state ATTR_UNUSED)
{
	test_run_cases(eligibility_cases, N_ELEMENTS(eligibility_cases));
}

static void test_policy_mode(void **state ATTR_UNUSED)
{
	test_run_cases(mode_cases, N_ELEMENTS(mode_cases));
}

static void test_policy_consent(void **state ATTR_UNUSED)
{
	test_run_cases(consent_cases, N_ELEMENTS(consent_cases));
}

static void test_policy_null_pointers(void **state ATTR_UNUSED)
{
	/* header arrays may be NULL rather than empty */
	static const char *const settings[] = {
		"readreceipt_mode=internal", "readreceipt_prompt=no", NULL
	};
	struct readreceipt_settings *set;
	struct readreceipt_message msg;
	struct readreceipt_verdict verdict;
	const char *error;
	pool_t pool;

	pool = pool_alloconly_create("test policy", 2048);
	assert_int_equal(readreceipt_settings_parse(pool, test_setting_lookup,
		(void *)settings, USER, NULL, &set, &error), 0);

	i_zero(&msg);
	readreceipt_policy_decide(set, &msg, FALSE, TRUE, pool, &verdict);
	assert_int_equal(verdict.action, READRECEIPT_ACTION_NONE);
	assert_null(verdict.reason);
	assert_int_equal(array_count(&verdict.recipients), 0);

	msg.disposition_notification_to = test_default_dnt;
	msg.to = test_default_to;
	readreceipt_policy_decide(set, &msg, FALSE, TRUE, pool, &verdict);
	assert_int_equal(verdict.action, READRECEIPT_ACTION_QUEUE);
	assert_string_equal(verdict.reason, "consent_required");
	assert_true(verdict.consent_required);
	pool_unref(&pool);
}

static const struct {
	enum readreceipt_action action;
	const char *decision;
} decision_cases[] = {
	{ READRECEIPT_ACTION_NONE, NULL },
	{ READRECEIPT_ACTION_SUPPRESS, "suppressed" },
	{ READRECEIPT_ACTION_SEND, "sent" },
	{ READRECEIPT_ACTION_QUEUE, "queued" },
	{ READRECEIPT_ACTION_IGNORE, "ignored" },
};

static void test_policy_action_to_decision(void **state ATTR_UNUSED)
{
	const char *decision;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(decision_cases); i++) {
		decision = readreceipt_action_to_decision(
			decision_cases[i].action);
		if (null_strcmp(decision, decision_cases[i].decision) != 0) {
			fail_msg("case \"%s\": expected %s, got %s",
				 test_action_name(decision_cases[i].action),
				 decision_cases[i].decision == NULL ? "(null)" :
				 decision_cases[i].decision,
				 decision == NULL ? "(null)" : decision);
		}
	}
}

/* SPEC §9: receipts and receipt requests that the user's client sends */
struct outgoing_case {
	const char *name;
	const char *const *settings;
	/* envelope recipients, normalized */
	const char *const *recipients;

	/* readreceipt_policy_outgoing_receipt(): NULL = allowed */
	const char *receipt_reason;
	const char *receipt_recipient;
	/* readreceipt_policy_outgoing_request() */
	enum readreceipt_request request;
	const char *request_reason;
};

#define SET_INTERNAL(...) SET("readreceipt_mode=internal", \
	"readreceipt_allow=partner@example.net, @supplier.example", \
	__VA_ARGS__)

static const struct outgoing_case outgoing_cases[] = {
	{ .name = "default: disabled, strip",
	  .settings = NULL, .recipients = HDR("boss@example.com"),
	  .receipt_reason = "mode_disabled",
	  .request = READRECEIPT_REQUEST_STRIP,
	  .request_reason = "mode_disabled" },
	{ .name = "disabled, reject",
	  .settings = SET("readreceipt_request=reject"),
	  .recipients = HDR("boss@example.com"),
	  .receipt_reason = "mode_disabled",
	  .request = READRECEIPT_REQUEST_REJECT,
	  .request_reason = "mode_disabled" },
	{ .name = "disabled, allow",
	  .settings = SET("readreceipt_request=allow"),
	  .recipients = HDR("boss@example.com"),
	  .receipt_reason = "mode_disabled",
	  .request = READRECEIPT_REQUEST_ALLOW,
	  .request_reason = "mode_disabled" },
	{ .name = "invalid settings count as disabled",
	  .settings = SET("readreceipt_mode=internal",
			  "readreceipt_request=reject",
			  "readreceipt_allow=@@"),
	  .recipients = HDR("boss@example.com"),
	  .receipt_reason = "invalid_settings",
	  .request = READRECEIPT_REQUEST_REJECT,
	  .request_reason = "invalid_settings" },
	{ .name = "internal: own domain, case-insensitive",
	  .settings = SET_INTERNAL("readreceipt_request=reject"),
	  .recipients = HDR("boss@EXAMPLE.com"),
	  .receipt_reason = NULL,
	  .request = READRECEIPT_REQUEST_ALLOW },
	{ .name = "internal: allow entries",
	  .settings = SET_INTERNAL("readreceipt_request=strip"),
	  .recipients = HDR("partner@example.net", "x@supplier.example"),
	  .receipt_reason = NULL,
	  .request = READRECEIPT_REQUEST_ALLOW },
	{ .name = "internal: the second recipient is outside",
	  .settings = SET_INTERNAL("readreceipt_request=strip"),
	  .recipients = HDR("boss@example.com", "other@example.net",
			    "third@example.org"),
	  .receipt_reason = "recipient_not_allowed",
	  .receipt_recipient = "other@example.net",
	  .request = READRECEIPT_REQUEST_ALLOW },
	{ .name = "internal: a subdomain is not the domain",
	  .settings = SET_INTERNAL("readreceipt_request=strip"),
	  .recipients = HDR("a@sub.example.com"),
	  .receipt_reason = "recipient_not_allowed",
	  .receipt_recipient = "a@sub.example.com",
	  .request = READRECEIPT_REQUEST_ALLOW },
	{ .name = "internal: an address without a domain",
	  .settings = SET_INTERNAL("readreceipt_request=strip"),
	  .recipients = HDR("postmaster"),
	  .receipt_reason = "recipient_not_allowed",
	  .receipt_recipient = "postmaster",
	  .request = READRECEIPT_REQUEST_ALLOW },
	{ .name = "any",
	  .settings = SET("readreceipt_mode=any",
			  "readreceipt_request=reject"),
	  .recipients = HDR("anyone@example.org"),
	  .receipt_reason = NULL,
	  .request = READRECEIPT_REQUEST_ALLOW },
};

static void test_policy_outgoing(void **state ATTR_UNUSED)
{
	struct readreceipt_settings *set;
	ARRAY_TYPE(const_string) recipients;
	const char *error, *reason, *recipient;
	enum readreceipt_request request;
	unsigned int i;
	pool_t pool;

	for (i = 0; i < N_ELEMENTS(outgoing_cases); i++) T_BEGIN {
		const struct outgoing_case *c = &outgoing_cases[i];

		pool = pool_alloconly_create("test policy", 2048);
		(void)readreceipt_settings_parse(pool, test_setting_lookup,
			(void *)c->settings, USER, NULL, &set, &error);
		t_array_init(&recipients, 4);
		array_append(&recipients, c->recipients,
			     str_array_length(c->recipients));

		reason = readreceipt_policy_outgoing_receipt(set, &recipients,
							     &recipient);
		if (null_strcmp(reason, c->receipt_reason) != 0 ||
		    null_strcmp(recipient, c->receipt_recipient) != 0) {
			fail_msg("case \"%s\": receipt: got %s (%s)", c->name,
				 reason == NULL ? "allowed" : reason,
				 recipient == NULL ? "-" : recipient);
		}
		request = readreceipt_policy_outgoing_request(set, &reason);
		if (request != c->request ||
		    null_strcmp(reason, c->request_reason) != 0) {
			fail_msg("case \"%s\": request: got %d (%s)",
				 c->name, request,
				 reason == NULL ? "-" : reason);
		}
		pool_unref(&pool);
	} T_END;
}

/* readreceipt_hide_forbidden: which verdicts at delivery give $MDNSent */
static void test_policy_hide_at_delivery(void **state ATTR_UNUSED)
{
	static const struct {
		enum readreceipt_action action;
		const char *reason;
		bool hide;
	} cases[] = {
		{ READRECEIPT_ACTION_NONE, NULL, FALSE },
		{ READRECEIPT_ACTION_SUPPRESS, "mode_disabled", TRUE },
		{ READRECEIPT_ACTION_SUPPRESS, "recipient_not_allowed", TRUE },
		{ READRECEIPT_ACTION_SUPPRESS, "mailing_list", TRUE },
		{ READRECEIPT_ACTION_SUPPRESS, "not_addressed_to_user", TRUE },
		{ READRECEIPT_ACTION_SUPPRESS, "auto_submitted", TRUE },
		{ READRECEIPT_ACTION_SUPPRESS, "report", TRUE },
		{ READRECEIPT_ACTION_SUPPRESS, "invalid_request", TRUE },
		{ READRECEIPT_ACTION_SUPPRESS, "own_message", TRUE },
		{ READRECEIPT_ACTION_SUPPRESS, "invalid_settings", TRUE },
		/* it has the keyword already */
		{ READRECEIPT_ACTION_SUPPRESS, "already_sent", FALSE },
		/* a property of the place, not of the message */
		{ READRECEIPT_ACTION_SUPPRESS, "excluded_mailbox", FALSE },
		{ READRECEIPT_ACTION_SEND, "automatic", FALSE },
		{ READRECEIPT_ACTION_QUEUE, "prompt", FALSE },
		{ READRECEIPT_ACTION_IGNORE, "consent_required", FALSE },
		{ READRECEIPT_ACTION_IGNORE, "defer_unavailable", FALSE },
	};
	struct readreceipt_verdict verdict;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		i_zero(&verdict);
		verdict.action = cases[i].action;
		verdict.reason = cases[i].reason;
		if (readreceipt_policy_hide_at_delivery(&verdict) !=
		    cases[i].hide) {
			fail_msg("%s/%s: expected %s",
				 test_action_name(cases[i].action),
				 cases[i].reason == NULL ? "-" :
				 cases[i].reason,
				 cases[i].hide ? "hidden" : "not hidden");
		}
	}
}

/* n copies of value in a NULL-terminated array (data stack) */
static const char *const *test_repeat(const char *value, unsigned int n)
{
	const char **values = t_new(const char *, n + 1);
	unsigned int i;

	for (i = 0; i < n; i++)
		values[i] = value;
	return values;
}

/* "x1@ext.example, x2@ext.example, ..." with user@example.com at
   position user_pos (1-based; 0: nowhere), separated by sep */
static const char *
test_address_list_sep(unsigned int count, unsigned int user_pos,
		      const char *sep)
{
	string_t *str = t_str_new(count * 24);
	unsigned int i;

	for (i = 1; i <= count; i++) {
		if (i > 1)
			str_append(str, sep);
		if (i == user_pos)
			str_append(str, USER);
		else
			str_printfa(str, "x%u@ext.example", i);
	}
	return str_c(str);
}

static const char *
test_address_list(unsigned int count, unsigned int user_pos)
{
	return test_address_list_sep(count, user_pos, ", ");
}

/* SPEC §13: bounded work on any message. The cases build headers far
   beyond the bounds; the results say which part was looked at. */
static void test_policy_bounds(void **state ATTR_UNUSED)
{
	T_BEGIN {
		const char *big_list = test_address_list(100, 0);
		const char *over_4k = test_address_list(300, 0);
		string_t *long_name = t_str_new(20000);
		const char *const *many_dnt = test_repeat(big_list, 300);
		struct policy_case cases[] = {
			{ .name = "300 Disposition-Notification-To of 100 "
				  "addresses each",
			  .settings = SET_AUTOMATIC, .dnt = many_dnt,
			  .action = READRECEIPT_ACTION_SUPPRESS,
			  .reason = "invalid_request" },
			{ .name = "a Disposition-Notification-To over 4 KB",
			  .settings = SET_AUTOMATIC,
			  .dnt = HDR(over_4k),
			  .action = READRECEIPT_ACTION_SUPPRESS,
			  .reason = "invalid_request" },
			{ .name = "Disposition-Notification-Options over 4 KB",
			  .settings = SET_AUTOMATIC,
			  .dno = HDR(t_strconcat("a=optional,",
					t_strdup_printf("%05000d", 1), NULL)),
			  .action = READRECEIPT_ACTION_SUPPRESS,
			  .reason = "invalid_request",
			  .recipients = "alice@example.com" },
			{ .name = "the user as the 100th address of To",
			  .settings = SET_AUTOMATIC,
			  .to = HDR(test_address_list(150, 100)),
			  .action = READRECEIPT_ACTION_SEND,
			  .reason = "automatic",
			  .recipients = "alice@example.com" },
			{ .name = "the user as the 101st address of To",
			  .settings = SET_AUTOMATIC,
			  .to = HDR(test_address_list(150, 101)),
			  .action = READRECEIPT_ACTION_SUPPRESS,
			  .reason = "not_addressed_to_user",
			  .recipients = "alice@example.com" },
			{ .name = "the user in Cc after 100 addresses in To",
			  .settings = SET_AUTOMATIC,
			  .to = HDR(test_address_list(100, 0)),
			  .cc = HDR(USER),
			  .action = READRECEIPT_ACTION_SUPPRESS,
			  .reason = "not_addressed_to_user",
			  .recipients = "alice@example.com" },
			{ .name = "the user in the 8th To header",
			  .settings = SET_AUTOMATIC,
			  .to = HDR("a@ext.example", "b@ext.example",
				    "c@ext.example", "d@ext.example",
				    "e@ext.example", "f@ext.example",
				    "g@ext.example", USER),
			  .action = READRECEIPT_ACTION_SEND,
			  .reason = "automatic",
			  .recipients = "alice@example.com" },
			{ .name = "the user in the 9th To header",
			  .settings = SET_AUTOMATIC,
			  .to = HDR("a@ext.example", "b@ext.example",
				    "c@ext.example", "d@ext.example",
				    "e@ext.example", "f@ext.example",
				    "g@ext.example", "h@ext.example", USER),
			  .action = READRECEIPT_ACTION_SUPPRESS,
			  .reason = "not_addressed_to_user",
			  .recipients = "alice@example.com" },
			{ .name = "the user after 16 KB of To",
			  .settings = SET_AUTOMATIC,
			  .to = HDR(NULL),
			  .action = READRECEIPT_ACTION_SUPPRESS,
			  .reason = "not_addressed_to_user",
			  .recipients = "alice@example.com" },
			{ .name = "the user before 16 KB of To is cut",
			  .settings = SET_AUTOMATIC,
			  .to = HDR(NULL),
			  .action = READRECEIPT_ACTION_SEND,
			  .reason = "automatic",
			  .recipients = "alice@example.com" },
			{ .name = "nine Auto-Submitted: no",
			  .settings = SET_AUTOMATIC,
			  .auto_submitted = test_repeat("no", 9),
			  .action = READRECEIPT_ACTION_SUPPRESS,
			  .reason = "auto_submitted",
			  .recipients = "alice@example.com" },
			{ .name = "eight Auto-Submitted: no",
			  .settings = SET_AUTOMATIC,
			  .auto_submitted = test_repeat("no", 8),
			  .action = READRECEIPT_ACTION_SEND,
			  .reason = "automatic",
			  .recipients = "alice@example.com" },
			{ .name = "nine Precedence: normal",
			  .settings = SET_AUTOMATIC,
			  .precedence = test_repeat("normal", 9),
			  .action = READRECEIPT_ACTION_SUPPRESS,
			  .reason = "mailing_list",
			  .recipients = "alice@example.com" },
			{ .name = "nine Content-Type: text/plain",
			  .settings = SET_AUTOMATIC,
			  .content_type = test_repeat("text/plain", 9),
			  .action = READRECEIPT_ACTION_SUPPRESS,
			  .reason = "report",
			  .recipients = "alice@example.com" },
			{ .name = "150 requested addresses: the first 100",
			  .settings = SET("readreceipt_mode=any",
					  "readreceipt_unprompted=ignore"),
			  .dnt = HDR(test_address_list(150, 0)),
			  .to = HDR(USER),
			  .action = READRECEIPT_ACTION_IGNORE,
			  .reason = "consent_required",
			  .consent_required = TRUE,
			  .recipients = NULL },
		};
		unsigned int i;

		/* 'To: "xxx...(20 KB)" <a@ext.example>, user@example.com':
		   the cut after the first comma leaves the user out */
		str_append_c(long_name, '"');
		for (i = 0; i < 17000; i++)
			str_append_c(long_name, 'x');
		str_append(long_name, "\" <a@ext.example>, " USER);
		cases[8].to = test_repeat(str_c(long_name), 1);
		/* the same with the user first: found before the cut */
		cases[9].to = test_repeat(t_strconcat(USER ", ",
					  str_c(long_name), NULL), 1);
		/* the first 100 of the 150 requested addresses */
		cases[14].recipients = test_address_list_sep(100, 0, " ");
		for (i = 0; i < N_ELEMENTS(cases); i++) T_BEGIN {
			test_run_case(&cases[i]);
		} T_END;
	} T_END;
}

/* SPEC §13: a local part that holds '@', '%' or '!' may be routed on by
   the server of the domain, so such an address is never internal.
   Addresses are normalized: the local part unquoted, split at the last
   '@'. */
static void test_policy_recipient_routes(void **state ATTR_UNUSED)
{
	static const char *const settings[] = {
		"readreceipt_mode=internal", "readreceipt_prompt=no",
		"readreceipt_domains=example.com",
		"readreceipt_allow=partner@example.org @supplier.example.net",
		NULL
	};
	static const struct {
		const char *addr;
		bool allowed;
	} cases[] = {
		{ "boss@example.com", TRUE },
		{ "first.last+tag@example.com", TRUE },
		{ "partner@example.org", TRUE },
		{ "anyone@supplier.example.net", TRUE },
		/* the percent hack */
		{ "victim%evil.example@example.com", FALSE },
		{ "%@example.com", FALSE },
		/* "victim@evil.example"@example.com, unquoted */
		{ "victim@evil.example@example.com", FALSE },
		{ "@evil.example@example.com", FALSE },
		/* UUCP bang paths */
		{ "a!b@example.com", FALSE },
		{ "evil.example!victim@example.com", FALSE },
		/* an allow entry does not make a routed address internal */
		{ "x%evil.example@supplier.example.net", FALSE },
		{ "partner!x@example.org", FALSE },
		/* no domain at all */
		{ "boss", FALSE },
		{ "a%b", FALSE },
		{ "", FALSE },
	};
	struct readreceipt_settings *set;
	const char *error;
	unsigned int i;
	pool_t pool;

	pool = pool_alloconly_create("test policy", 2048);
	assert_int_equal(readreceipt_settings_parse(pool, test_setting_lookup,
		(void *)settings, USER, NULL, &set, &error), 0);
	for (i = 0; i < N_ELEMENTS(cases); i++) {
		if (readreceipt_policy_recipient_allowed(set, cases[i].addr) !=
		    cases[i].allowed) {
			fail_msg("\"%s\": expected %s", cases[i].addr,
				 cases[i].allowed ? "allowed" : "not allowed");
		}
	}
	pool_unref(&pool);
}

/* The same rule holds for the receipts that clients send (the envelope
   recipients at submission) ... */
static const struct outgoing_case outgoing_route_cases[] = {
	{ .name = "percent hack",
	  .settings = SET_INTERNAL("readreceipt_prompt=no"),
	  .recipients = HDR("victim%evil.example@example.com"),
	  .receipt_reason = "recipient_not_allowed",
	  .receipt_recipient = "victim%evil.example@example.com" },
	{ .name = "quoted local part with @",
	  .settings = SET_INTERNAL("readreceipt_prompt=no"),
	  .recipients = HDR("boss@example.com",
			    "victim@evil.example@example.com"),
	  .receipt_reason = "recipient_not_allowed",
	  .receipt_recipient = "victim@evil.example@example.com" },
	{ .name = "bang path",
	  .settings = SET_INTERNAL("readreceipt_prompt=no"),
	  .recipients = HDR("a!b@example.com"),
	  .receipt_reason = "recipient_not_allowed",
	  .receipt_recipient = "a!b@example.com" },
	{ .name = "mode any still allows them",
	  .settings = SET("readreceipt_mode=any"),
	  .recipients = HDR("victim%evil.example@example.com") },
};

static void test_policy_outgoing_routes(void **state ATTR_UNUSED)
{
	struct readreceipt_settings *set;
	ARRAY_TYPE(const_string) recipients;
	const char *error, *reason, *recipient;
	unsigned int i;
	pool_t pool;

	for (i = 0; i < N_ELEMENTS(outgoing_route_cases); i++) T_BEGIN {
		const struct outgoing_case *c = &outgoing_route_cases[i];

		pool = pool_alloconly_create("test policy", 2048);
		(void)readreceipt_settings_parse(pool, test_setting_lookup,
			(void *)c->settings, USER, NULL, &set, &error);
		t_array_init(&recipients, 4);
		array_append(&recipients, c->recipients,
			     str_array_length(c->recipients));
		reason = readreceipt_policy_outgoing_receipt(set, &recipients,
							     &recipient);
		if (null_strcmp(reason, c->receipt_reason) != 0 ||
		    null_strcmp(recipient, c->receipt_recipient) != 0) {
			fail_msg("case \"%s\": got %s (%s)", c->name,
				 reason == NULL ? "allowed" : reason,
				 recipient == NULL ? "-" : recipient);
		}
		pool_unref(&pool);
	} T_END;
}

/* ... and for the receipts the module sends itself. */
static const struct policy_case route_cases[] = {
	{ .name = "automatic receipt: percent hack",
	  .settings = SET_AUTOMATIC,
	  .dnt = HDR("<victim%evil.example@example.com>"),
	  .return_path = HDR("<victim%evil.example@example.com>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed",
	  .recipients = "victim%evil.example@example.com" },
	{ .name = "automatic receipt: quoted local part with @",
	  .settings = SET_AUTOMATIC,
	  .dnt = HDR("\"victim@evil.example\"@example.com"),
	  .return_path = HDR("<\"victim@evil.example\"@example.com>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed",
	  .recipients = "victim@evil.example@example.com" },
	{ .name = "automatic receipt: bang path",
	  .settings = SET_AUTOMATIC,
	  .dnt = HDR("a!b@example.com"),
	  .return_path = HDR("<a!b@example.com>"),
	  .action = READRECEIPT_ACTION_SUPPRESS,
	  .reason = "recipient_not_allowed",
	  .recipients = "a!b@example.com" },
};

static void test_policy_decide_routes(void **state ATTR_UNUSED)
{
	test_run_cases(route_cases, N_ELEMENTS(route_cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_eligibility),
		cmocka_unit_test(test_policy_mode),
		cmocka_unit_test(test_policy_consent),
		cmocka_unit_test(test_policy_null_pointers),
		cmocka_unit_test(test_policy_action_to_decision),
		cmocka_unit_test(test_policy_outgoing),
		cmocka_unit_test(test_policy_hide_at_delivery),
		cmocka_unit_test(test_policy_bounds),
		cmocka_unit_test(test_policy_recipient_routes),
		cmocka_unit_test(test_policy_outgoing_routes),
		cmocka_unit_test(test_policy_decide_routes),
	};

	return TEST_RUN("readreceipt-policy", tests);
}
