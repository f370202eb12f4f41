/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "str.h"
#include "readreceipt-settings.h"
#include "readreceipt-client.h"

#define TEST_USERNAME "user@example.com"
#define TEST_HOSTNAME "mail.example.com"

/* readreceipt_prompt_clients as configured; NULL = not set (default) */
struct test_case {
	const char *prompt_clients;
	const char *id_name;
	bool expected;
};

static const struct test_case test_cases[] = {
	/* default: Roundcube* Thunderbird* */
	{ NULL, "Roundcube", TRUE },
	{ NULL, "Roundcube Webmail", TRUE },
	{ NULL, "roundcube", TRUE },
	{ NULL, "ROUNDCUBE", TRUE },
	{ NULL, "Thunderbird", TRUE },
	{ NULL, "thunderbird 115.3", TRUE },
	{ NULL, "Mozilla Thunderbird", FALSE },
	{ NULL, "Round", FALSE },
	{ NULL, "mutt", FALSE },
	{ NULL, "", FALSE },
	{ NULL, NULL, FALSE },

	/* a per-user list replaces the default */
	{ "mutt*", "mutt", TRUE },
	{ "mutt*", "Mutt/2.2.9", TRUE },
	{ "mutt*", "neomutt", FALSE },
	{ "mutt*", "Roundcube", FALSE },
	{ "*mutt*", "neomutt", TRUE },

	/* separators, ? and exact names */
	{ "K-9?Mail,FairEmail", "k-9 mail", TRUE },
	{ "K-9?Mail,FairEmail", "FAIREMAIL", TRUE },
	{ "K-9?Mail,FairEmail", "FairEmail 1.2", FALSE },
	{ "K-9?Mail,FairEmail", "K-9  Mail", FALSE },
	{ "Round?ube", "Roundcube", TRUE },
	{ "Round?ube", "Roundcube ", FALSE },

	/* everything, and nothing */
	{ "*", "anything", TRUE },
	{ "*", "", FALSE },
	{ "*", NULL, FALSE },
	{ "", "Roundcube", FALSE },
	{ " , ", "Roundcube", FALSE },
};

static const char *test_prompt_clients;

static const char *test_lookup(const char *name, void *context ATTR_UNUSED)
{
	if (strcmp(name, "readreceipt_prompt_clients") == 0)
		return test_prompt_clients;
	return NULL;
}

static const struct readreceipt_settings *
test_settings(pool_t pool, const char *prompt_clients)
{
	struct readreceipt_settings *set;
	const char *error;

	test_prompt_clients = prompt_clients;
	if (readreceipt_settings_parse(pool, test_lookup, NULL, TEST_USERNAME,
				       TEST_HOSTNAME, &set, &error) < 0)
		fail_msg("readreceipt_prompt_clients=%s: %s",
			 prompt_clients, error);
	return set;
}

static void test_client_cases(void **state ATTR_UNUSED)
{
	const struct readreceipt_settings *set;
	unsigned int i;
	bool ret;
	pool_t pool;

	pool = pool_alloconly_create("test client", 1024);
	for (i = 0; i < N_ELEMENTS(test_cases); i++) {
		const struct test_case *tc = &test_cases[i];

		set = test_settings(pool, tc->prompt_clients);
		ret = readreceipt_client_shows_prompt(set, tc->id_name);
		if (ret != tc->expected) {
			fail_msg("case %u: prompt_clients=%s name=%s: %s, "
				 "expected %s", i,
				 tc->prompt_clients == NULL ? "(default)" :
				 tc->prompt_clients,
				 tc->id_name == NULL ? "NIL" : tc->id_name,
				 ret ? "match" : "no match",
				 tc->expected ? "match" : "no match");
		}
	}
	pool_unref(&pool);
}

static void test_client_name_length(void **state ATTR_UNUSED)
{
	const struct readreceipt_settings *set;
	string_t *name = t_str_new(READRECEIPT_CLIENT_NAME_MAX_LEN + 1);
	pool_t pool;

	pool = pool_alloconly_create("test client", 1024);
	set = test_settings(pool, "Roundcube*");
	str_append(name, "Roundcube");
	while (str_len(name) < READRECEIPT_CLIENT_NAME_MAX_LEN)
		str_append_c(name, 'x');
	/* the longest valid ID value still matches */
	assert_true(readreceipt_client_shows_prompt(set, str_c(name)));
	str_append_c(name, 'x');
	assert_false(readreceipt_client_shows_prompt(set, str_c(name)));
	pool_unref(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_cases),
		cmocka_unit_test(test_client_name_length),
	};

	return TEST_RUN("readreceipt-client", tests);
}
