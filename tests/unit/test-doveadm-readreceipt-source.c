/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "doveadm-readreceipt-source.h"

#define TEST_MAX_FIELDS 4

struct source_case {
	const char *name;
	/* the user's value of readreceipt_mode, NULL = not set */
	const char *value;
	const char *userdb_fields[TEST_MAX_FIELDS + 1];
	/* FALSE: userdb_fields is passed as NULL */
	bool have_fields;
	const char *expected;
	/* value is the default (Dovecot 2.4 reports the default value of a
	   setting that is not set) */
	bool is_default;
};

static const struct source_case source_cases[] = {
	{ "not set, no userdb fields", NULL, { NULL }, FALSE, "default" },
	{ "not set, unrelated fields", NULL,
	  { "home=/srv/mail/a", "uid=1000" }, TRUE, "default" },
	{ "plugin {}, no userdb fields", "internal", { NULL }, FALSE,
	  "config" },
	{ "plugin {}, empty userdb", "internal", { NULL }, TRUE, "config" },
	{ "plugin {}, other settings in userdb", "internal",
	  { "readreceipt_prompt=no", "home=/srv/mail/a" }, TRUE, "config" },
	{ "userdb", "internal",
	  { "home=/srv/mail/a", "readreceipt_mode=internal" }, TRUE,
	  "userdb" },
	{ "userdb with plugin/ prefix", "internal",
	  { "plugin/readreceipt_mode=internal" }, TRUE, "userdb" },
	{ "userdb, field without a value", "yes",
	  { "readreceipt_mode" }, TRUE, "userdb" },
	{ "userdb, empty value hands back the default", "",
	  { "readreceipt_mode=" }, TRUE, "userdb" },
	{ "userdb value overridden on the command line", "any",
	  { "readreceipt_mode=internal" }, TRUE, "config" },
	{ "a longer key is another setting", "internal",
	  { "readreceipt_mode_x=internal" }, TRUE, "config" },
	{ "a shorter key is another setting", "internal",
	  { "readreceipt_mod=internal" }, TRUE, "config" },
	{ "the key compares case-sensitively", "internal",
	  { "READRECEIPT_MODE=internal" }, TRUE, "config" },
	{ "the value compares exactly", "internal",
	  { "readreceipt_mode=Internal" }, TRUE, "config" },
	{ "the last of several fields can match", "any",
	  { "readreceipt_mode=internal", "readreceipt_mode=any" }, TRUE,
	  "userdb" },
	{ "a value with '='", "a=b", { "readreceipt_mode=a=b" }, TRUE,
	  "userdb" },
	{ "the default value, no userdb field", "disabled", { NULL }, TRUE,
	  "default", TRUE },
	{ "the default value set by userdb", "disabled",
	  { "readreceipt_mode=disabled" }, TRUE, "userdb", TRUE },
};

static void test_source_cases(void **state ATTR_UNUSED)
{
	const struct source_case *c;
	enum doveadm_readreceipt_source source;
	const char *actual;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(source_cases); i++) {
		c = &source_cases[i];
		source = doveadm_readreceipt_setting_source("readreceipt_mode",
			c->value, c->value != NULL && !c->is_default,
			c->have_fields ? c->userdb_fields : NULL);
		actual = doveadm_readreceipt_source_to_str(source);
		if (strcmp(actual, c->expected) != 0) {
			fail_msg("case \"%s\": %s, expected %s", c->name,
				 actual, c->expected);
		}
	}
}

static void test_source_to_str(void **state ATTR_UNUSED)
{
	assert_string_equal(doveadm_readreceipt_source_to_str(
		DOVEADM_READRECEIPT_SOURCE_DEFAULT), "default");
	assert_string_equal(doveadm_readreceipt_source_to_str(
		DOVEADM_READRECEIPT_SOURCE_CONFIG), "config");
	assert_string_equal(doveadm_readreceipt_source_to_str(
		DOVEADM_READRECEIPT_SOURCE_USERDB), "userdb");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_cases),
		cmocka_unit_test(test_source_to_str),
	};

	return TEST_RUN("doveadm-readreceipt-source", tests);
}
