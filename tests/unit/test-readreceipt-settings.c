/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "array.h"
#include "str.h"
#include "readreceipt-settings.h"

/* str_sanitize() leaves DEL as it is on 2.3 and shows it as '?' on 2.4 */
#if DOVECOT_PREREQ(2, 4, 0)
#  define TEST_SANITIZED_DEL "?"
#else
#  define TEST_SANITIZED_DEL "\x7f"
#endif

#define TEST_USERNAME "user@Example.COM"
#define TEST_HOSTNAME "mail.example.com"
#define TEST_NO_USERNAME "(none)"

#define TEST_MAX_PAIRS 8
/* more than every setting: the parser asks from data stack frames of its
   own, where the array of names asked for must not grow */
#define TEST_ASKED_MAX 64

/* What the lookup callback sees: name/value pairs and the names it was
   asked for. */
struct test_env {
	const char *const *pairs;
	ARRAY_TYPE(const_string) asked;
};

static const char *test_lookup(const char *name, void *context)
{
	struct test_env *env = context;
	const char *const *pair;

	array_push_back(&env->asked, &name);
	for (pair = env->pairs; pair[0] != NULL; pair += 2) {
		if (strcmp(pair[0], name) == 0)
			return pair[1];
	}
	return NULL;
}

/* One setting's parsed value as text, as readreceipt_settings_value()
   shows it; field is the setting name without the "readreceipt_" prefix.
   An address or host that is not set is "(null)", so that the cases tell
   NULL from "". */
static const char *
test_field(const struct readreceipt_settings *set, const char *field)
{
	const char *value;

	if (strcmp(field, "user_email") == 0 && set->user_email == NULL)
		return "(null)";
	if (strcmp(field, "submission_host") == 0 &&
	    set->submission_host == NULL)
		return "(null)";
	value = readreceipt_settings_value(set,
		t_strconcat("readreceipt_", field, NULL));
	if (value == NULL)
		fail_msg("test_field: unknown field %s", field);
	return value;
}

/* Parse pairs (full setting names) into pool; they must be valid. */
static struct readreceipt_settings *
test_parse_valid(pool_t pool, const char *const *pairs, const char *username)
{
	struct readreceipt_settings *set;
	struct test_env env;
	const char *error;

	i_zero(&env);
	env.pairs = pairs;
	t_array_init(&env.asked, TEST_ASKED_MAX);
	assert_int_equal(readreceipt_settings_parse(pool, test_lookup, &env,
		username, TEST_HOSTNAME, &set, &error), 0);
	return set;
}

/* Parse pairs (full setting names) and check the result. error is the
   expected error, or NULL when the settings are valid; expect holds
   field/value pairs (see test_field()). */
static void
test_parse_check(const char *case_name, const char *const *pairs,
		 const char *username, const char *hostname,
		 const char *error, const char *const *expect)
{
	struct readreceipt_settings *set = NULL;
	struct test_env env;
	const char *error_r = NULL, *actual;
	pool_t pool;
	int ret;

	i_zero(&env);
	env.pairs = pairs;
	t_array_init(&env.asked, TEST_ASKED_MAX);
	pool = pool_alloconly_create("test settings", 1024);
	if (username != NULL && strcmp(username, TEST_NO_USERNAME) == 0)
		username = NULL;

	ret = readreceipt_settings_parse(pool, test_lookup, &env, username,
					 hostname, &set, &error_r);
	if (set == NULL)
		fail_msg("case \"%s\": no settings returned", case_name);
	if (error == NULL) {
		if (ret != 0) {
			fail_msg("case \"%s\": unexpected error: %s",
				 case_name, error_r);
		}
		if (set->error != NULL) {
			fail_msg("case \"%s\": set->error = %s", case_name,
				 set->error);
		}
	} else {
		if (ret != -1)
			fail_msg("case \"%s\": accepted", case_name);
		if (null_strcmp(error_r, error) != 0) {
			fail_msg("case \"%s\": error \"%s\", expected \"%s\"",
				 case_name, error_r, error);
		}
		if (null_strcmp(set->error, error) != 0) {
			fail_msg("case \"%s\": set->error \"%s\"", case_name,
				 set->error);
		}
		if (set->mode != READRECEIPT_MODE_DISABLED) {
			fail_msg("case \"%s\": mode %s despite the error",
				 case_name, readreceipt_mode_to_str(set->mode));
		}
	}
	for (; expect != NULL && expect[0] != NULL; expect += 2) {
		actual = test_field(set, expect[0]);
		if (strcmp(actual, expect[1]) != 0) {
			fail_msg("case \"%s\": %s = \"%s\", expected \"%s\"",
				 case_name, expect[0], actual, expect[1]);
		}
	}
	pool_unref(&pool);
}

/* env names are without the "readreceipt_" prefix, which test_case_env()
   adds: the lookup itself sees the full names. */
struct settings_case {
	const char *name;
	const char *env[TEST_MAX_PAIRS * 2 + 1];
	/* NULL = TEST_USERNAME */
	const char *username;
	const char *error;
	const char *expect[TEST_MAX_PAIRS * 2 + 1];
};

static const struct settings_case settings_cases[] = {
	/* defaults */
	{ "defaults", { NULL }, NULL, NULL,
	  { "mode", "disabled", "domains", "example.com", "allow", "",
	    "prompt", "yes", "user_email", "user@example.com",
	    "unprompted", "defer", "prompt_clients", "Roundcube* Thunderbird*",
	    NULL } },
	{ "defaults, part 2", { NULL }, NULL, NULL,
	  { "bulk_limit", "1", "exclude", "\\Sent \\Drafts \\Junk \\Trash",
	    "max_per_hour", "100", "hide_forbidden", "yes",
	    "request", "strip", "submission_host", "(null)",
	    "submission_timeout", "5", NULL } },
	{ "defaults, part 3", { NULL }, NULL, NULL,
	  { "reporting_ua",
	    "mail.example.com; dovecot-readreceipt/" READRECEIPT_VERSION,
	    "include_headers", "no", "pending_expire", "30d",
	    "policy_refresh", "5m", NULL } },
	{ "empty scalars count as unset",
	  { "mode", "", "prompt", "", "user_email", "", "bulk_limit", "",
	    "max_per_hour", "", "unprompted", "", "request", "",
	    "submission_timeout", "" }, NULL, NULL,
	  { "mode", "disabled", "prompt", "yes",
	    "user_email", "user@example.com", "bulk_limit", "1",
	    "max_per_hour", "100", "unprompted", "defer", "request", "strip",
	    "submission_timeout", "5" } },

	/* readreceipt_mode */
	{ "mode internal", { "mode", "internal" }, NULL, NULL,
	  { "mode", "internal" } },
	{ "mode any", { "mode", "any" }, NULL, NULL, { "mode", "any" } },
	{ "mode disabled", { "mode", "disabled" }, NULL, NULL,
	  { "mode", "disabled" } },
	{ "mode unknown", { "mode", "foo" }, NULL,
	  "readreceipt_mode: unknown value \"foo\" "
	  "(expected disabled, internal or any)", { NULL } },
	{ "mode is case-sensitive", { "mode", "Internal" }, NULL,
	  "readreceipt_mode: unknown value \"Internal\" "
	  "(expected disabled, internal or any)", { NULL } },

	/* readreceipt_domains */
	{ "domains from user_email", { "user_email", "me@Corp.Example" },
	  NULL, NULL,
	  { "user_email", "me@corp.example", "domains", "corp.example" } },
	{ "domains without any address", { NULL }, "john", NULL,
	  { "user_email", "(null)", "domains", "" } },
	{ "domains, spaces and commas",
	  { "domains", "example.com, .Example.org  example.net,x-y.example" },
	  NULL, NULL,
	  { "domains", "example.com .example.org example.net x-y.example" } },
	{ "domains, empty entries skipped",
	  { "domains", ",a.example,,b.example," },
	  NULL, NULL, { "domains", "a.example b.example" } },
	{ "domains set empty", { "domains", "" }, NULL, NULL,
	  { "domains", "" } },
	{ "domains, address", { "domains", "example.com user@example.org" },
	  NULL, "readreceipt_domains: entry 2 (\"user@example.org\"): "
	  "not a domain name", { "domains", "example.com" } },
	{ "domains, underscore", { "domains", "exa_mple.com" }, NULL,
	  "readreceipt_domains: entry 1 (\"exa_mple.com\"): "
	  "not a domain name", { NULL } },
	{ "domains, empty label", { "domains", "example..com" }, NULL,
	  "readreceipt_domains: entry 1 (\"example..com\"): "
	  "not a domain name", { NULL } },
	{ "domains, trailing dot", { "domains", "example.com." }, NULL,
	  "readreceipt_domains: entry 1 (\"example.com.\"): "
	  "not a domain name", { NULL } },
	{ "domains, lone dot", { "domains", "." }, NULL,
	  "readreceipt_domains: entry 1 (\".\"): not a domain name",
	  { NULL } },
	{ "domains, hyphen at label start", { "domains", "-example.com" },
	  NULL, "readreceipt_domains: entry 1 (\"-example.com\"): "
	  "not a domain name", { NULL } },
	{ "domains, hyphen at label end", { "domains", ".example-.com" },
	  NULL, "readreceipt_domains: entry 1 (\".example-.com\"): "
	  "not a domain name", { NULL } },

	/* readreceipt_allow (see also test_settings_allow_limits) */
	{ "allow, addresses and domains",
	  { "allow", "Partner@Example.ORG,@Example.net <x@y.example>" },
	  NULL, NULL,
	  { "allow", "Partner@example.org @example.net x@y.example" } },
	{ "allow, quoted local part", { "allow", "\"John.Doe\"@Example.com" },
	  NULL, NULL, { "allow", "John.Doe@example.com" } },
	{ "allow, unparsable address",
	  { "allow", "a@example.org,b@ c@example.org" }, NULL,
	  "readreceipt_allow: entry 2 (\"b@\"): invalid address: "
	  "missing domain",
	  { "allow", "a@example.org c@example.org" } },
	{ "allow, no domain", { "allow", "partner" }, NULL,
	  "readreceipt_allow: entry 1 (\"partner\"): invalid address: "
	  "missing domain", { "allow", "" } },
	{ "allow, text after the address", { "allow", "a@example.org;x" },
	  NULL, "readreceipt_allow: entry 1 (\"a@example.org;x\"): "
	  "invalid address: unexpected text after an address", { NULL } },
	{ "allow, lone @", { "allow", "@" }, NULL,
	  "readreceipt_allow: entry 1 (\"@\"): not a domain name after '@'",
	  { NULL } },
	{ "allow, bad domain", { "allow", "@exa%mple.com" }, NULL,
	  "readreceipt_allow: entry 1 (\"@exa%mple.com\"): "
	  "not a domain name after '@'", { NULL } },

	/* readreceipt_prompt */
	{ "prompt no", { "prompt", "no" }, NULL, NULL, { "prompt", "no" } },
	{ "prompt yes", { "prompt", "yes" }, NULL, NULL, { "prompt", "yes" } },
	{ "prompt 0", { "prompt", "0" }, NULL, NULL, { "prompt", "no" } },
	{ "prompt 1", { "prompt", "1" }, NULL, NULL, { "prompt", "yes" } },
	{ "prompt false", { "prompt", "FALSE" }, NULL, NULL,
	  { "prompt", "no" } },
	{ "prompt true", { "prompt", "true" }, NULL, NULL,
	  { "prompt", "yes" } },
	{ "prompt NO", { "prompt", "NO" }, NULL, NULL, { "prompt", "no" } },
	{ "prompt invalid", { "prompt", "maybe" }, NULL,
	  "readreceipt_prompt: invalid value \"maybe\" (expected yes or no)",
	  { "prompt", "yes" } },
	{ "prompt 2", { "prompt", "2" }, NULL,
	  "readreceipt_prompt: invalid value \"2\" (expected yes or no)",
	  { NULL } },

	/* readreceipt_user_email */
	{ "user_email from username", { NULL }, "First.Last@EXAMPLE.org",
	  NULL, { "user_email", "First.Last@example.org",
		  "domains", "example.org" } },
	{ "user_email, username not an address", { NULL }, "john", NULL,
	  { "user_email", "(null)" } },
	{ "user_email, no username", { NULL }, TEST_NO_USERNAME, NULL,
	  { "user_email", "(null)", "domains", "" } },
	{ "user_email set", { "user_email", "Me <Me@Example.NET>" }, "john",
	  NULL, { "user_email", "Me@example.net", "domains", "example.net" } },
	{ "user_email, not an address", { "user_email", "john" }, NULL,
	  "readreceipt_user_email: invalid address \"john\" "
	  "(missing domain)", { "user_email", "(null)", "domains", "" } },
	{ "user_email, two addresses",
	  { "user_email", "a@example.com, b@example.com" }, NULL,
	  "readreceipt_user_email: invalid address "
	  "\"a@example.com, b@example.com\" (more than one address)",
	  { NULL } },
	{ "user_email, garbage after", { "user_email", "a@example.com x" },
	  NULL, "readreceipt_user_email: invalid address "
	  "\"a@example.com x\" (unexpected text after an address)",
	  { NULL } },

	/* readreceipt_unprompted */
	{ "unprompted send", { "unprompted", "send" }, NULL, NULL,
	  { "unprompted", "send" } },
	{ "unprompted ignore", { "unprompted", "ignore" }, NULL, NULL,
	  { "unprompted", "ignore" } },
	{ "unprompted defer", { "unprompted", "defer" }, NULL, NULL,
	  { "unprompted", "defer" } },
	{ "unprompted invalid", { "unprompted", "later" }, NULL,
	  "readreceipt_unprompted: unknown value \"later\" "
	  "(expected defer, send or ignore)", { "unprompted", "defer" } },

	/* readreceipt_prompt_clients */
	{ "prompt_clients set", { "prompt_clients", "MyClient*,other app" },
	  NULL, NULL, { "prompt_clients", "MyClient* other app" } },
	{ "prompt_clients empty", { "prompt_clients", "" }, NULL, NULL,
	  { "prompt_clients", "" } },

	/* readreceipt_bulk_limit */
	{ "bulk_limit 5", { "bulk_limit", "5" }, NULL, NULL,
	  { "bulk_limit", "5" } },
	{ "bulk_limit 0", { "bulk_limit", "0" }, NULL,
	  "readreceipt_bulk_limit: value \"0\" out of range "
	  "(expected at least 1)", { "bulk_limit", "1" } },
	{ "bulk_limit negative", { "bulk_limit", "-1" }, NULL,
	  "readreceipt_bulk_limit: invalid value \"-1\" (expected a number)",
	  { NULL } },
	{ "bulk_limit text", { "bulk_limit", "ten" }, NULL,
	  "readreceipt_bulk_limit: invalid value \"ten\" (expected a number)",
	  { NULL } },
	{ "bulk_limit overflow", { "bulk_limit", "4294967296" }, NULL,
	  "readreceipt_bulk_limit: invalid value \"4294967296\" "
	  "(expected a number)", { NULL } },
	{ "bulk_limit with space", { "bulk_limit", " 5" }, NULL,
	  "readreceipt_bulk_limit: invalid value \" 5\" (expected a number)",
	  { NULL } },

	/* readreceipt_exclude */
	{ "exclude set", { "exclude", "INBOX/Spam,\\Archive Lists/*" },
	  NULL, NULL, { "exclude", "INBOX/Spam \\Archive Lists/*" } },
	{ "exclude empty", { "exclude", "" }, NULL, NULL,
	  { "exclude", "" } },
	{ "exclude, lone backslash", { "exclude", "\\Sent \\" }, NULL,
	  "readreceipt_exclude: entry 2 (\"\\\"): not a special-use flag",
	  { "exclude", "\\Sent" } },
	{ "exclude, bad flag", { "exclude", "\\Sent* Trash" }, NULL,
	  "readreceipt_exclude: entry 1 (\"\\Sent*\"): "
	  "not a special-use flag", { "exclude", "Trash" } },

	/* readreceipt_max_per_hour */
	{ "max_per_hour 1000", { "max_per_hour", "1000" }, NULL, NULL,
	  { "max_per_hour", "1000" } },
	{ "max_per_hour 0 is no limit", { "max_per_hour", "0" }, NULL, NULL,
	  { "max_per_hour", "0" } },
	{ "max_per_hour invalid", { "max_per_hour", "lots" }, NULL,
	  "readreceipt_max_per_hour: invalid value \"lots\" "
	  "(expected a number)", { "max_per_hour", "100" } },

	/* readreceipt_hide_forbidden */
	{ "hide_forbidden no", { "hide_forbidden", "no" }, NULL, NULL,
	  { "hide_forbidden", "no" } },
	{ "hide_forbidden invalid", { "hide_forbidden", "nope" }, NULL,
	  "readreceipt_hide_forbidden: invalid value \"nope\" "
	  "(expected yes or no)", { "hide_forbidden", "yes" } },

	/* readreceipt_request */
	{ "request reject", { "request", "reject" }, NULL, NULL,
	  { "request", "reject" } },
	{ "request allow", { "request", "allow" }, NULL, NULL,
	  { "request", "allow" } },
	{ "request strip", { "request", "strip" }, NULL, NULL,
	  { "request", "strip" } },
	{ "request invalid", { "request", "drop" }, NULL,
	  "readreceipt_request: unknown value \"drop\" "
	  "(expected strip, reject or allow)", { "request", "strip" } },

	/* readreceipt_submission_host */
	{ "submission_host empty", { "submission_host", "" }, NULL, NULL,
	  { "submission_host", "(null)" } },
	{ "submission_host host", { "submission_host", "smtp.example.com" },
	  NULL, NULL, { "submission_host", "smtp.example.com" } },
	{ "submission_host host:port",
	  { "submission_host", "smtp.example.com:587" }, NULL, NULL,
	  { "submission_host", "smtp.example.com:587" } },
	{ "submission_host IPv4:port", { "submission_host", "192.0.2.1:25" },
	  NULL, NULL, { "submission_host", "192.0.2.1:25" } },
	{ "submission_host [IPv6]:port",
	  { "submission_host", "[2001:db8::1]:25" }, NULL, NULL,
	  { "submission_host", "[2001:db8::1]:25" } },
	{ "submission_host [IPv6]", { "submission_host", "[::1]" }, NULL,
	  NULL, { "submission_host", "[::1]" } },
	{ "submission_host port 65535",
	  { "submission_host", "localhost:65535" }, NULL, NULL,
	  { "submission_host", "localhost:65535" } },
	{ "submission_host port 0", { "submission_host", "localhost:0" },
	  NULL, "readreceipt_submission_host: invalid value \"localhost:0\" "
	  "(expected host or host:port, port 1-65535)",
	  { "submission_host", "(null)" } },
	{ "submission_host port 65536",
	  { "submission_host", "localhost:65536" }, NULL,
	  "readreceipt_submission_host: invalid value \"localhost:65536\" "
	  "(expected host or host:port, port 1-65535)", { NULL } },
	{ "submission_host empty port", { "submission_host", "localhost:" },
	  NULL, "readreceipt_submission_host: invalid value \"localhost:\" "
	  "(expected host or host:port, port 1-65535)", { NULL } },
	{ "submission_host port not a number",
	  { "submission_host", "localhost:smtp" }, NULL,
	  "readreceipt_submission_host: invalid value \"localhost:smtp\" "
	  "(expected host or host:port, port 1-65535)", { NULL } },
	{ "submission_host unclosed bracket",
	  { "submission_host", "[::1:25" }, NULL,
	  "readreceipt_submission_host: invalid value \"[::1:25\" "
	  "(expected host or host:port, port 1-65535)", { NULL } },
	{ "submission_host brackets without IPv6",
	  { "submission_host", "[smtp.example.com]:25" }, NULL,
	  "readreceipt_submission_host: invalid value "
	  "\"[smtp.example.com]:25\" (invalid IPv6 address)", { NULL } },
	{ "submission_host bad host", { "submission_host", "smtp host" },
	  NULL, "readreceipt_submission_host: invalid value \"smtp host\" "
	  "(invalid host name)", { NULL } },

	/* readreceipt_submission_timeout */
	{ "submission_timeout 1", { "submission_timeout", "1" }, NULL, NULL,
	  { "submission_timeout", "1" } },
	{ "submission_timeout 300", { "submission_timeout", "300" }, NULL,
	  NULL, { "submission_timeout", "300" } },
	{ "submission_timeout 0", { "submission_timeout", "0" }, NULL,
	  "readreceipt_submission_timeout: value \"0\" out of range "
	  "(expected 1 to 300 seconds)", { "submission_timeout", "5" } },
	{ "submission_timeout 301", { "submission_timeout", "301" }, NULL,
	  "readreceipt_submission_timeout: value \"301\" out of range "
	  "(expected 1 to 300 seconds)", { NULL } },
	{ "submission_timeout 5s", { "submission_timeout", "5s" }, NULL,
	  "readreceipt_submission_timeout: invalid value \"5s\" "
	  "(expected a number)", { NULL } },

	/* readreceipt_policy_refresh */
	{ "policy_refresh 30s", { "policy_refresh", "30s" }, NULL, NULL,
	  { "policy_refresh", "30s" } },
	{ "policy_refresh 0", { "policy_refresh", "0" }, NULL, NULL,
	  { "policy_refresh", "0" } },
	{ "policy_refresh bad", { "policy_refresh", "often" }, NULL,
	  "readreceipt_policy_refresh: invalid value \"often\" (expected a "
	  "time such as 30d, 12h or 0): Invalid time interval: often",
	  { "mode", "disabled", "policy_refresh", "5m" } },

	/* readreceipt_pending_expire */
	{ "pending_expire 0", { "pending_expire", "0" }, NULL, NULL,
	  { "pending_expire", "0" } },
	{ "pending_expire 12h", { "pending_expire", "12h" }, NULL, NULL,
	  { "pending_expire", "12h" } },
	{ "pending_expire 2 secs", { "pending_expire", "2 secs" }, NULL, NULL,
	  { "pending_expire", "2s" } },
	{ "pending_expire 90 secs", { "pending_expire", "90 secs" }, NULL,
	  NULL, { "pending_expire", "90s" } },
	{ "pending_expire needs a unit, as in Dovecot",
	  { "pending_expire", "90" }, NULL,
	  "readreceipt_pending_expire: invalid value \"90\" (expected a "
	  "time such as 30d, 12h or 0): Time interval '90' is missing units "
	  "(add e.g. 's' for seconds)", { "pending_expire", "30d" } },
	{ "pending_expire 7 days", { "pending_expire", "7 days" }, NULL, NULL,
	  { "pending_expire", "7d" } },
	{ "pending_expire bad", { "pending_expire", "soon" }, NULL,
	  "readreceipt_pending_expire: invalid value \"soon\" (expected a "
	  "time such as 30d, 12h or 0): Invalid time interval: soon",
	  { "mode", "disabled", "pending_expire", "30d" } },

	/* readreceipt_reporting_ua */
	{ "reporting_ua set", { "reporting_ua", "Example Mail 1.0" }, NULL,
	  NULL, { "reporting_ua", "Example Mail 1.0" } },
	{ "reporting_ua empty omits it", { "reporting_ua", "" }, NULL, NULL,
	  { "reporting_ua", "" } },
	{ "reporting_ua with CRLF",
	  { "reporting_ua", "x\r\nBcc: victim@example.org" }, NULL,
	  "readreceipt_reporting_ua: invalid value "
	  "\"x??Bcc: victim@example.org\" "
	  "(only printable ASCII is allowed)",
	  { "reporting_ua",
	    "mail.example.com; dovecot-readreceipt/" READRECEIPT_VERSION } },
	{ "reporting_ua with LF", { "reporting_ua", "a\nb" }, NULL,
	  "readreceipt_reporting_ua: invalid value \"a?b\" "
	  "(only printable ASCII is allowed)", { NULL } },
	{ "reporting_ua with tab", { "reporting_ua", "a\tb" }, NULL,
	  "readreceipt_reporting_ua: invalid value \"a?b\" "
	  "(only printable ASCII is allowed)", { NULL } },
	{ "reporting_ua with DEL", { "reporting_ua", "a\x7f" }, NULL,
	  "readreceipt_reporting_ua: invalid value \"a" TEST_SANITIZED_DEL "\" "
	  "(only printable ASCII is allowed)", { NULL } },
	{ "reporting_ua 8bit", { "reporting_ua", "J\xc3\xb6rg" }, NULL,
	  "readreceipt_reporting_ua: invalid value \"J\xc3\xb6rg\" "
	  "(only printable ASCII is allowed)", { NULL } },

	/* readreceipt_include_headers */
	{ "include_headers yes", { "include_headers", "yes" }, NULL, NULL,
	  { "include_headers", "yes" } },
	{ "include_headers invalid", { "include_headers", "all" }, NULL,
	  "readreceipt_include_headers: invalid value \"all\" "
	  "(expected yes or no)", { "include_headers", "no" } },

	/* what an error does to the rest */
	{ "error disables a mode that was set",
	  { "mode", "any", "bulk_limit", "0", "max_per_hour", "7",
	    "prompt", "no", "allow", "@example.org" }, NULL,
	  "readreceipt_bulk_limit: value \"0\" out of range "
	  "(expected at least 1)",
	  { "mode", "disabled", "max_per_hour", "7", "prompt", "no",
	    "allow", "@example.org", "domains", "example.com" } },
	{ "the first error in documented order",
	  { "include_headers", "x", "prompt", "maybe", "mode", "internal",
	    "request", "y" }, NULL,
	  "readreceipt_prompt: invalid value \"maybe\" (expected yes or no)",
	  { "mode", "disabled" } },
	{ "domains error before user_email error",
	  { "user_email", "nobody", "domains", "bad_domain" }, NULL,
	  "readreceipt_domains: entry 1 (\"bad_domain\"): not a domain name",
	  { NULL } },
	{ "long values are shortened in errors",
	  { "mode", "internal-and-also-a-very-long-value-that-goes-on-and-on" },
	  NULL, "readreceipt_mode: unknown value "
	  "\"internal-and-also-a-very-long-value-that...\" "
	  "(expected disabled, internal or any)", { NULL } },
};

/* pairs with the full setting names */
static const char *const *test_case_env(const struct settings_case *c)
{
	ARRAY_TYPE(const_string) pairs;
	const char *name;
	unsigned int i;

	t_array_init(&pairs, 16);
	for (i = 0; c->env[i] != NULL; i += 2) {
		name = t_strconcat("readreceipt_", c->env[i], NULL);
		array_push_back(&pairs, &name);
		array_push_back(&pairs, &c->env[i + 1]);
	}
	array_append_zero(&pairs);
	return array_front(&pairs);
}

static void test_settings_cases(void **state ATTR_UNUSED)
{
	const struct settings_case *c;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(settings_cases); i++) {
		c = &settings_cases[i];
		test_parse_check(c->name, test_case_env(c),
				 c->username == NULL ? TEST_USERNAME :
				 c->username, TEST_HOSTNAME, c->error,
				 c->expect);
	}
}

static void test_settings_no_hostname(void **state ATTR_UNUSED)
{
	static const char *const no_pairs[] = { NULL };
	static const char *const expect[] = {
		"reporting_ua", "dovecot-readreceipt/" READRECEIPT_VERSION, NULL
	};

	test_parse_check("no hostname", no_pairs, TEST_USERNAME, NULL,
			 NULL, expect);
	test_parse_check("empty hostname", no_pairs, TEST_USERNAME, "",
			 NULL, expect);
}

static const char *test_fill(unsigned int len, char c)
{
	char *str = t_malloc_no0(len + 1);

	memset(str, c, len);
	str[len] = '\0';
	return str;
}

static struct readreceipt_settings *
test_parse_one(pool_t pool, const char *name, const char *value,
	       int *ret_r, const char **error_r)
{
	struct readreceipt_settings *set;
	struct test_env env;
	const char *pairs[3];

	pairs[0] = name;
	pairs[1] = value;
	pairs[2] = NULL;
	i_zero(&env);
	env.pairs = pairs;
	t_array_init(&env.asked, TEST_ASKED_MAX);
	*error_r = NULL;
	*ret_r = readreceipt_settings_parse(pool, test_lookup, &env,
					    TEST_USERNAME, TEST_HOSTNAME,
					    &set, error_r);
	return set;
}

static void
test_check_error(const char *case_name, const struct readreceipt_settings *set,
		 int ret, const char *error, const char *expected_error)
{
	if (expected_error == NULL) {
		if (ret != 0) {
			fail_msg("case \"%s\": unexpected error: %s",
				 case_name, error);
		}
		return;
	}
	if (ret != -1 || null_strcmp(error, expected_error) != 0) {
		fail_msg("case \"%s\": error \"%s\", expected \"%s\"",
			 case_name, error, expected_error);
	}
	if (set->mode != READRECEIPT_MODE_DISABLED)
		fail_msg("case \"%s\": mode not disabled", case_name);
}

/* readreceipt_allow with generated entries: "user<n>@example.org", the last
   one optionally padded to last_len characters. */
static const struct {
	const char *name;
	unsigned int count, last_len;
	const char *separator;
	const char *error;
	/* entries kept for display */
	unsigned int expect_count;
} allow_limit_cases[] = {
	{ "100 allow entries", 100, 0, " ", NULL, 100 },
	{ "100 allow entries, commas", 100, 0, ",", NULL, 100 },
	{ "101 allow entries", 101, 0, " ",
	  "readreceipt_allow: entry 101 (\"user100@example.org\"): "
	  "more than 100 entries", 100 },
	{ "150 allow entries", 150, 0, ", ",
	  "readreceipt_allow: entry 101 (\"user100@example.org\"): "
	  "more than 100 entries", 100 },
	{ "allow entry of 256 characters", 2, 256, " ", NULL, 2 },
	{ "allow entry of 257 characters", 2, 257, " ",
	  "readreceipt_allow: entry 2 "
	  "(\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"): "
	  "longer than 256 characters", 1 },
	{ "allow, the 100th entry too long", 100, 300, " ",
	  "readreceipt_allow: entry 100 "
	  "(\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"): "
	  "longer than 256 characters", 99 },
};

static const char *test_allow_value(unsigned int idx)
{
	static const char *domain = "@example.org";
	string_t *value = t_str_new(4096);
	unsigned int i, len = allow_limit_cases[idx].last_len;

	for (i = 0; i < allow_limit_cases[idx].count; i++) {
		if (i > 0)
			str_append(value, allow_limit_cases[idx].separator);
		if (i + 1 < allow_limit_cases[idx].count || len == 0)
			str_printfa(value, "user%u%s", i, domain);
		else {
			/* an address of exactly len characters */
			i_assert(len > strlen(domain));
			str_append(value,
				   test_fill(len - strlen(domain), 'a'));
			str_append(value, domain);
		}
	}
	return str_c(value);
}

static void test_settings_allow_limits(void **state ATTR_UNUSED)
{
	struct readreceipt_settings *set;
	const char *error;
	unsigned int i;
	pool_t pool;
	int ret;

	for (i = 0; i < N_ELEMENTS(allow_limit_cases); i++) {
		const char *name = allow_limit_cases[i].name;

		pool = pool_alloconly_create("test settings", 1024);
		set = test_parse_one(pool, "readreceipt_allow",
				     test_allow_value(i), &ret, &error);
		test_check_error(name, set, ret, error,
				 allow_limit_cases[i].error);
		if (array_count(&set->allow) !=
		    allow_limit_cases[i].expect_count) {
			fail_msg("case \"%s\": %u entries kept, expected %u",
				 name, array_count(&set->allow),
				 allow_limit_cases[i].expect_count);
		}
		pool_unref(&pool);
	}
}

static const struct {
	unsigned int len;
	const char *error;
} reporting_ua_len_cases[] = {
	{ 200, NULL },
	{ 201, "readreceipt_reporting_ua: invalid value "
	       "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" "
	       "(longer than 200 characters)" },
};

static void test_settings_reporting_ua_length(void **state ATTR_UNUSED)
{
	struct readreceipt_settings *set;
	const char *value, *error, *expected;
	unsigned int i;
	pool_t pool;
	int ret;

	for (i = 0; i < N_ELEMENTS(reporting_ua_len_cases); i++) {
		const char *name = t_strdup_printf("reporting_ua of %u "
			"characters", reporting_ua_len_cases[i].len);

		value = test_fill(reporting_ua_len_cases[i].len, 'a');
		pool = pool_alloconly_create("test settings", 1024);
		set = test_parse_one(pool, "readreceipt_reporting_ua", value,
				     &ret, &error);
		test_check_error(name, set, ret, error,
				 reporting_ua_len_cases[i].error);
		/* a rejected value leaves the default */
		expected = reporting_ua_len_cases[i].error == NULL ? value :
			TEST_HOSTNAME"; dovecot-readreceipt/" READRECEIPT_VERSION;
		if (strcmp(set->reporting_ua, expected) != 0) {
			fail_msg("case \"%s\": reporting_ua \"%s\"", name,
				 set->reporting_ua);
		}
		pool_unref(&pool);
	}
}

/* Settings in a data stack pool: no frame of its own may be used. */
static void test_settings_datastack_pool(void **state ATTR_UNUSED)
{
	static const char *const pairs[] = {
		"readreceipt_mode", "internal",
		"readreceipt_allow", "a@Example.org @example.net",
		"readreceipt_domains", ".Example.com",
		NULL
	};
	struct readreceipt_settings *set;

	set = test_parse_valid(pool_datastack_create(), pairs, TEST_USERNAME);
	assert_int_equal(set->mode, READRECEIPT_MODE_INTERNAL);
	assert_string_equal(test_field(set, "allow"),
			    "a@example.org @example.net");
	assert_string_equal(test_field(set, "domains"), ".example.com");
}

static void test_settings_names(void **state ATTR_UNUSED)
{
	static const char *const expected[] = {
		"readreceipt_mode", "readreceipt_domains", "readreceipt_allow",
		"readreceipt_prompt", "readreceipt_user_email",
		"readreceipt_unprompted", "readreceipt_prompt_clients",
		"readreceipt_bulk_limit", "readreceipt_exclude",
		"readreceipt_max_per_hour", "readreceipt_hide_forbidden",
		"readreceipt_request", "readreceipt_submission_host",
		"readreceipt_submission_timeout", "readreceipt_reporting_ua",
		"readreceipt_include_headers", "readreceipt_pending_expire",
		"readreceipt_policy_refresh",
	};
	static const char *const no_pairs[] = { NULL };
	struct readreceipt_settings *set;
	struct test_env env;
	const char *name, *error;
	pool_t pool;
	unsigned int i;
	bool found;

	for (i = 0; i < N_ELEMENTS(expected); i++) {
		if (null_strcmp(readreceipt_setting_names[i],
				expected[i]) != 0) {
			fail_msg("name %u: \"%s\", expected \"%s\"", i,
				 readreceipt_setting_names[i], expected[i]);
		}
	}
	assert_null(readreceipt_setting_names[N_ELEMENTS(expected)]);

	/* every setting is looked up under its full name, and nothing
	   else is */
	i_zero(&env);
	env.pairs = no_pairs;
	t_array_init(&env.asked, TEST_ASKED_MAX);
	pool = pool_alloconly_create("test settings", 1024);
	assert_int_equal(readreceipt_settings_parse(pool, test_lookup, &env,
		TEST_USERNAME, TEST_HOSTNAME, &set, &error), 0);
	for (i = 0; i < N_ELEMENTS(expected); i++) {
		found = FALSE;
		array_foreach_elem(&env.asked, name) {
			if (strcmp(name, expected[i]) == 0)
				found = TRUE;
		}
		if (!found)
			fail_msg("%s was not looked up", expected[i]);
	}
	array_foreach_elem(&env.asked, name) {
		if (!str_array_find(readreceipt_setting_names, name))
			fail_msg("unknown name looked up: %s", name);
	}
	pool_unref(&pool);
}

/* The table's defaults (the documentation's default column) are what
   the parser uses, and every value shown can be written back into a
   configuration and means the same. */
static void test_settings_table_defaults(void **state ATTR_UNUSED)
{
	static const char *const no_pairs[] = { NULL };
	const struct readreceipt_setting_def *def;
	struct readreceipt_settings *set, *set2;
	struct test_env env;
	ARRAY_TYPE(const_string) pairs;
	const char *value, *value2, *error, *null = NULL;
	unsigned int count = 0;
	pool_t pool;

	i_zero(&env);
	env.pairs = no_pairs;
	t_array_init(&env.asked, TEST_ASKED_MAX);
	pool = pool_alloconly_create("test settings", 2048);
	assert_int_equal(readreceipt_settings_parse(pool, test_lookup, &env,
		TEST_USERNAME, TEST_HOSTNAME, &set, &error), 0);
	t_array_init(&pairs, 64);
	for (def = readreceipt_setting_defs; def->name != NULL; def++) {
		assert_string_equal(def->name,
				    readreceipt_setting_names[count++]);
		value = readreceipt_settings_value(set, def->name);
		assert_non_null(value);
		if (def->default_value != NULL &&
		    strcmp(value, def->default_value) != 0) {
			fail_msg("%s: default shown as \"%s\", the table "
				 "says \"%s\"", def->name, value,
				 def->default_value);
		}
		array_push_back(&pairs, &def->name);
		array_push_back(&pairs, &value);
	}
	assert_null(readreceipt_setting_names[count]);
	assert_int_equal(count, 18);
	array_push_back(&pairs, &null);

	/* the values shown, set explicitly */
	env.pairs = array_front(&pairs);
	assert_int_equal(readreceipt_settings_parse(pool, test_lookup, &env,
		TEST_USERNAME, TEST_HOSTNAME, &set2, &error), 0);
	for (def = readreceipt_setting_defs; def->name != NULL; def++) {
		value = readreceipt_settings_value(set, def->name);
		value2 = readreceipt_settings_value(set2, def->name);
		if (strcmp(value, value2) != 0) {
			fail_msg("%s: \"%s\" set explicitly shows \"%s\"",
				 def->name, value, value2);
		}
	}
	pool_unref(&pool);
}

static void test_settings_mode_to_str(void **state ATTR_UNUSED)
{
	static const struct {
		enum readreceipt_mode mode;
		const char *name;
	} cases[] = {
		{ READRECEIPT_MODE_DISABLED, "disabled" },
		{ READRECEIPT_MODE_INTERNAL, "internal" },
		{ READRECEIPT_MODE_ANY, "any" },
	};
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		if (strcmp(readreceipt_mode_to_str(cases[i].mode),
			   cases[i].name) != 0) {
			fail_msg("mode %u: \"%s\", expected \"%s\"",
				 cases[i].mode,
				 readreceipt_mode_to_str(cases[i].mode),
				 cases[i].name);
		}
	}
}

/* Every documented setting has a value (the cases check what it is);
   what is not set shows as "", anything else is no setting. */
static void test_settings_value(void **state ATTR_UNUSED)
{
	static const char *const no_pairs[] = { NULL };
	struct readreceipt_settings *set;
	const char *const *name;
	pool_t pool;

	pool = pool_alloconly_create("test settings", 1024);
	set = test_parse_valid(pool, no_pairs, NULL);
	for (name = readreceipt_setting_names; *name != NULL; name++) {
		if (readreceipt_settings_value(set, *name) == NULL)
			fail_msg("%s has no value", *name);
	}
	assert_null(set->user_email);
	assert_string_equal(readreceipt_settings_value(set,
		"readreceipt_user_email"), "");
	assert_null(set->submission_host);
	assert_string_equal(readreceipt_settings_value(set,
		"readreceipt_submission_host"), "");
	assert_null(readreceipt_settings_value(set, "readreceipt_unknown"));
	assert_null(readreceipt_settings_value(set, "mode"));
	pool_unref(&pool);
}

/* All values at once are each setting's value, in the names' order. */
static void test_settings_values(void **state ATTR_UNUSED)
{
	static const char *const pairs[] = {
		"readreceipt_mode", "internal",
		"readreceipt_domains", "example.com .example.org",
		"readreceipt_pending_expire", "2d",
		NULL
	};
	struct readreceipt_settings *set;
	const char **values;
	unsigned int i;
	pool_t pool;

	pool = pool_alloconly_create("test settings", 1024);
	set = test_parse_valid(pool, pairs, "user@example.com");
	values = t_new(const char *, readreceipt_setting_count + 2);
	values[readreceipt_setting_count + 1] = "unchanged";
	readreceipt_settings_values(set, values);
	for (i = 0; i < readreceipt_setting_count; i++) {
		assert_string_equal(values[i], readreceipt_settings_value(set,
			readreceipt_setting_names[i]));
		assert_int_equal(readreceipt_setting_index(
			readreceipt_setting_names[i]), i);
	}
	assert_int_equal(readreceipt_setting_index("readreceipt_unknown"), -1);
	assert_int_equal(readreceipt_setting_index("mode"), -1);
	assert_string_equal(values[readreceipt_setting_index(
		"readreceipt_domains")], "example.com .example.org");
	assert_string_equal(values[readreceipt_setting_index(
		"readreceipt_pending_expire")], "2d");
	assert_null(values[i]);
	assert_string_equal(values[i + 1], "unchanged");
	assert_null(readreceipt_setting_names[i]);
	assert_string_equal(values[0], "internal");
	pool_unref(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_cases),
		cmocka_unit_test(test_settings_no_hostname),
		cmocka_unit_test(test_settings_allow_limits),
		cmocka_unit_test(test_settings_reporting_ua_length),
		cmocka_unit_test(test_settings_datastack_pool),
		cmocka_unit_test(test_settings_names),
		cmocka_unit_test(test_settings_mode_to_str),
		cmocka_unit_test(test_settings_value),
		cmocka_unit_test(test_settings_values),
		cmocka_unit_test(test_settings_table_defaults),
	};

	return TEST_RUN("readreceipt-settings", tests);
}
