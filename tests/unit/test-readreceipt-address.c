/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "array.h"
#include "str.h"
#include "readreceipt-address.h"

/* Addresses joined with " " for comparison; "-1" when parsing failed. */
static const char *test_join(int ret, const ARRAY_TYPE(const_string) *addrs)
{
	string_t *str = t_str_new(128);
	const char *addr;

	if (ret < 0)
		return "-1";
	array_foreach_elem(addrs, addr) {
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, addr);
	}
	return str_c(str);
}

/* A list of entries separated by spaces, as a settings array would hold
   it. */
static const ARRAY_TYPE(const_string) *test_entries(const char *entries)
{
	ARRAY_TYPE(const_string) *arr;
	const char *const *list = t_strsplit_spaces(entries, " ");

	arr = t_new(ARRAY_TYPE(const_string), 1);
	t_array_init(arr, 8);
	for (; *list != NULL; list++)
		array_push_back(arr, list);
	return arr;
}

static void
test_check_str(const char *case_name, const char *what,
	       const char *expected, const char *actual)
{
	if (null_strcmp(expected, actual) != 0) {
		fail_msg("case \"%s\": %s: expected \"%s\", got \"%s\"",
			 case_name, what,
			 expected == NULL ? "(null)" : expected,
			 actual == NULL ? "(null)" : actual);
	}
}

static const struct {
	const char *input;
	/* normalized address, or NULL when it is not exactly one valid
	   address */
	const char *output;
} normalize_cases[] = {
	{ "user@example.com", "user@example.com" },
	{ "user@EXAMPLE.Com", "user@example.com" },
	{ "User.Name@Example.COM", "User.Name@example.com" },
	{ "<user@example.com>", "user@example.com" },
	{ " <user@example.com> ", "user@example.com" },
	{ "John Doe <john@Example.com>", "john@example.com" },
	{ "\"Doe, John\" <john@example.com>", "john@example.com" },
	{ "=?utf-8?q?J=C3=B6rg?= <joerg@example.com>", "joerg@example.com" },
	{ "john@example.com (John Doe)", "john@example.com" },
	{ "\"john doe\"@example.com", "john doe@example.com" },
	{ "\"john\\\"q\"@example.com", "john\"q@example.com" },
	{ "\"a@b\"@example.com", "a@b@example.com" },
	{ "<@route.example:user@example.com>", "user@example.com" },
	{ "user@[192.0.2.1]", "user@[192.0.2.1]" },
	{ "user@example.com,", "user@example.com" },

	{ "", NULL },
	{ "   ", NULL },
	{ "(only a comment)", NULL },
	{ "user", NULL },
	{ "user@", NULL },
	{ "@example.com", NULL },
	{ "\"\"@example.com", NULL },
	{ "user@example.com.", NULL },
	{ "<user@example.com", NULL },
	{ "user@example.com>", NULL },
	{ "<>", NULL },
	{ "user@example.com garbage", NULL },
	{ "a@example.com b@example.com", NULL },
	{ "a@example.com, b@example.com", NULL },
	{ "a@example.com; b@example.com", NULL },
	{ "group: a@example.com;", NULL },
	{ "user@example.com (unterminated", NULL },
	{ "\"unterminated@example.com", NULL },
	{ "John <john@example.com> x", NULL },
};

static void test_address_normalize(void **state ATTR_UNUSED)
{
	const char *addr, *error;
	unsigned int i;
	int ret;

	for (i = 0; i < N_ELEMENTS(normalize_cases); i++) {
		const char *input = normalize_cases[i].input;
		const char *output = normalize_cases[i].output;

		addr = NULL;
		error = NULL;
		ret = readreceipt_address_normalize(input, &addr, &error);
		if (output == NULL) {
			if (ret != -1)
				fail_msg("case \"%s\": accepted as \"%s\"",
					 input, addr);
			if (error == NULL || error[0] == '\0')
				fail_msg("case \"%s\": no error", input);
		} else {
			if (ret != 0)
				fail_msg("case \"%s\": rejected: %s",
					 input, error);
			test_check_str(input, "address", output, addr);
		}
	}
}

static const struct {
	const char *input;
	/* addresses separated by spaces, or "-1" for a syntax error */
	const char *output;
	int ret;
} list_cases[] = {
	{ "", "", 0 },
	{ "  \r\n ", "", 0 },
	{ "(comment)", "", 0 },
	{ "a@example.com", "a@example.com", 1 },
	{ "a@Example.COM, B@example.org", "a@example.com B@example.org", 2 },
	{ "a@example.com,\r\n\tb@example.org",
	  "a@example.com b@example.org", 2 },
	{ "John <john@example.com>, \"Doe, Jane\" <jane@example.com>",
	  "john@example.com jane@example.com", 2 },
	{ "\"john doe\"@example.com, x@example.com",
	  "john doe@example.com x@example.com", 2 },
	{ "team: a@example.com, B <b@Example.com>;",
	  "a@example.com b@example.com", 2 },
	{ "team: a@example.com;, c@example.com, other: d@example.com;",
	  "a@example.com c@example.com d@example.com", 3 },
	{ "undisclosed-recipients:;", "", 0 },
	{ "a@example.com,", "a@example.com", 1 },

	/* syntax errors */
	{ "garbage", "-1", -1 },
	{ "a@example.com, garbage", "-1", -1 },
	{ "garbage, a@example.com", "-1", -1 },
	{ "a@example.com garbage", "-1", -1 },
	{ "a@example.com b@example.com", "-1", -1 },
	{ "a@example.com; b@example.com", "-1", -1 },
	{ "a@example.com,, b@example.com", "-1", -1 },
	{ ", a@example.com", "-1", -1 },
	{ "a@", "-1", -1 },
	{ "@example.com", "-1", -1 },
	{ "<a@example.com", "-1", -1 },
	{ "a@example.com>", "-1", -1 },
	{ "<>", "-1", -1 },
	{ "\"\"@example.com", "-1", -1 },
	{ "team: a@example.com", "-1", -1 },
	{ "team: a@example.com, b;", "-1", -1 },
	{ "a@example.com (unterminated", "-1", -1 },
	{ "(unterminated", "-1", -1 },
	{ "\"unterminated, a@example.com", "-1", -1 },
};

static void test_address_parse_list(void **state ATTR_UNUSED)
{
	ARRAY_TYPE(const_string) addrs;
	unsigned int i;
	int ret;

	for (i = 0; i < N_ELEMENTS(list_cases); i++) {
		t_array_init(&addrs, 4);
		ret = readreceipt_address_parse_list(list_cases[i].input,
						     &addrs);
		if (ret != list_cases[i].ret) {
			fail_msg("case \"%s\": returned %d, expected %d",
				 list_cases[i].input, ret, list_cases[i].ret);
		}
		test_check_str(list_cases[i].input, "addresses",
			       list_cases[i].output, test_join(ret, &addrs));
	}
}

/* The strings live as long as the array, also when it comes from a pool
   that is not the data stack. */
static void test_address_parse_list_pool(void **state ATTR_UNUSED)
{
	ARRAY_TYPE(const_string) addrs;
	pool_t pool;

	pool = pool_alloconly_create("test addresses", 256);
	p_array_init(&addrs, pool, 2);
	assert_int_equal(readreceipt_address_parse_list(
		"a@Example.com, \"b c\"@example.org", &addrs), 2);
	assert_string_equal(array_idx_elem(&addrs, 0), "a@example.com");
	assert_string_equal(array_idx_elem(&addrs, 1), "b c@example.org");
	pool_unref(&pool);
}

static const struct {
	const char *name;
	/* how many addresses, how many of them inside one group */
	unsigned int count, in_group;
	const char *trailer;
	int ret;
} bound_cases[] = {
	{ "exactly the bound", READRECEIPT_ADDRESS_MAX_PER_HEADER, 0, "",
	  READRECEIPT_ADDRESS_MAX_PER_HEADER },
	{ "one under the bound, garbage after",
	  READRECEIPT_ADDRESS_MAX_PER_HEADER - 1, 0, " garbage", -1 },
	{ "over the bound", READRECEIPT_ADDRESS_MAX_PER_HEADER * 3, 0, "",
	  READRECEIPT_ADDRESS_MAX_PER_HEADER },
	{ "over the bound, garbage after it is not looked at",
	  READRECEIPT_ADDRESS_MAX_PER_HEADER + 1, 0, " garbage",
	  READRECEIPT_ADDRESS_MAX_PER_HEADER },
	{ "over the bound inside a group",
	  READRECEIPT_ADDRESS_MAX_PER_HEADER + 50, 120, "",
	  READRECEIPT_ADDRESS_MAX_PER_HEADER },
};

static void test_address_parse_list_bound(void **state ATTR_UNUSED)
{
	ARRAY_TYPE(const_string) addrs;
	string_t *value;
	unsigned int i, j;
	int ret;

	for (i = 0; i < N_ELEMENTS(bound_cases); i++) {
		value = t_str_new(4096);
		if (bound_cases[i].in_group > 0)
			str_append(value, "team: ");
		for (j = 0; j < bound_cases[i].count; j++) {
			if (j > 0) {
				str_append(value,
					j == bound_cases[i].in_group ?
					";, " : ", ");
			}
			str_printfa(value, "user%u@example.com", j);
		}
		if (bound_cases[i].in_group >= bound_cases[i].count &&
		    bound_cases[i].in_group > 0)
			str_append_c(value, ';');
		str_append(value, bound_cases[i].trailer);

		t_array_init(&addrs, 4);
		ret = readreceipt_address_parse_list(str_c(value), &addrs);
		if (ret != bound_cases[i].ret) {
			fail_msg("case \"%s\": returned %d, expected %d",
				 bound_cases[i].name, ret,
				 bound_cases[i].ret);
		}
		if (ret > 0) {
			if (array_count(&addrs) != (unsigned int)ret) {
				fail_msg("case \"%s\": %u addresses appended",
					 bound_cases[i].name,
					 array_count(&addrs));
			}
			test_check_str(bound_cases[i].name, "first address",
				       "user0@example.com",
				       array_idx_elem(&addrs, 0));
		}
	}
}

static const struct {
	const char *input;
	/* NULL when invalid, "" for the null path */
	const char *output;
} path_cases[] = {
	{ "<>", "" },
	{ " <> ", "" },
	{ "<user@example.com>", "user@example.com" },
	{ "<User@EXAMPLE.com>", "User@example.com" },
	{ "  <user@example.com>  ", "user@example.com" },
	{ "<\"john doe\"@example.com>", "john doe@example.com" },
	{ "<@relay.example:user@example.com>", "user@example.com" },
	/* seen in the wild, accepted like Dovecot does */
	{ "user@example.com", "user@example.com" },

	{ "", NULL },
	{ "garbage", NULL },
	{ "<garbage>", NULL },
	{ "<user@example.com", NULL },
	{ "<user@example.com> garbage", NULL },
	{ "<user@>", NULL },
	{ "<@example.com>", NULL },
	{ "<\"\"@example.com>", NULL },
	{ "<a@example.com>, <b@example.com>", NULL },
	{ "John <user@example.com>", NULL },
};

static void test_address_parse_path(void **state ATTR_UNUSED)
{
	const char *addr;
	unsigned int i;
	int ret;

	for (i = 0; i < N_ELEMENTS(path_cases); i++) {
		addr = "unset";
		ret = readreceipt_address_parse_path(path_cases[i].input,
						     &addr);
		if (ret != (path_cases[i].output == NULL ? -1 : 0)) {
			fail_msg("case \"%s\": returned %d",
				 path_cases[i].input, ret);
		}
		if (ret == 0) {
			test_check_str(path_cases[i].input, "path",
				       path_cases[i].output, addr);
		}
	}
}

static const struct {
	const char *addr, *domain;
} domain_cases[] = {
	{ "user@example.com", "example.com" },
	{ "a@b@example.com", "example.com" },
	{ "user@[192.0.2.1]", "[192.0.2.1]" },
	{ "no-at-sign", "" },
};

static void test_address_domain(void **state ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(domain_cases); i++) {
		test_check_str(domain_cases[i].addr, "domain",
			       domain_cases[i].domain,
			       readreceipt_address_domain(
					domain_cases[i].addr));
	}
}

static const struct {
	const char *addr1, *addr2;
	bool equal;
} equals_cases[] = {
	{ "user@example.com", "user@example.com", TRUE },
	{ "user@example.com", "user@EXAMPLE.COM", TRUE },
	{ "user@Example.Com", "user@eXample.cOM", TRUE },
	{ "User@example.com", "user@example.com", FALSE },
	{ "user@example.com", "user@example.org", FALSE },
	{ "user@example.com", "user@sub.example.com", FALSE },
	{ "user@example.com", "user2@example.com", FALSE },
	{ "us@er@example.com", "us@er@EXAMPLE.com", TRUE },
	{ "us@er@example.com", "us@ER@example.com", FALSE },
	{ "john doe@example.com", "john doe@example.com", TRUE },
	{ "", "", TRUE },
	{ "", "user@example.com", FALSE },
};

static void test_address_equals(void **state ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(equals_cases); i++) {
		const char *a1 = equals_cases[i].addr1;
		const char *a2 = equals_cases[i].addr2;

		/* the relation is symmetric */
		if (readreceipt_address_equals(a1, a2) !=
		    equals_cases[i].equal ||
		    readreceipt_address_equals(a2, a1) !=
		    equals_cases[i].equal) {
			fail_msg("case \"%s\" vs \"%s\": expected %s",
				 a1, a2, equals_cases[i].equal ?
				 "equal" : "different");
		}
	}
}

static const struct {
	const char *domain;
	/* entries separated by spaces */
	const char *entries;
	bool match;
} domain_match_cases[] = {
	{ "example.com", "example.com", TRUE },
	{ "EXAMPLE.Com", "example.com", TRUE },
	{ "sub.example.com", "example.com", FALSE },
	{ "example.com", ".example.com", TRUE },
	{ "Example.COM", ".example.com", TRUE },
	{ "sub.example.com", ".example.com", TRUE },
	{ "a.b.Example.com", ".example.com", TRUE },
	{ "badexample.com", ".example.com", FALSE },
	{ "badexample.com", "example.com", FALSE },
	{ "example.com.evil.org", ".example.com", FALSE },
	{ "com", ".example.com", FALSE },
	{ "example.org", "example.com .example.net example.org", TRUE },
	{ "x.example.net", "example.com .example.net example.org", TRUE },
	{ "x.example.org", "example.com .example.net example.org", FALSE },
	{ "example.com", "", FALSE },
	{ "", ".example.com", FALSE },
};

static void test_domain_matches(void **state ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(domain_match_cases); i++) {
		const ARRAY_TYPE(const_string) *domains =
			test_entries(domain_match_cases[i].entries);

		if (readreceipt_domain_matches(domain_match_cases[i].domain,
					       domains) !=
		    domain_match_cases[i].match) {
			fail_msg("case \"%s\" in \"%s\": expected %s",
				 domain_match_cases[i].domain,
				 domain_match_cases[i].entries,
				 domain_match_cases[i].match ?
				 "a match" : "no match");
		}
	}
}

static const struct {
	const char *addr;
	const char *entries;
	bool match;
} allow_cases[] = {
	{ "partner@example.org", "partner@example.org", TRUE },
	{ "partner@EXAMPLE.org", "partner@example.org", TRUE },
	{ "Partner@example.org", "partner@example.org", FALSE },
	{ "other@example.org", "partner@example.org", FALSE },
	{ "partner@sub.example.org", "partner@example.org", FALSE },
	{ "anyone@example.org", "@example.org", TRUE },
	{ "Anyone@EXAMPLE.ORG", "@example.org", TRUE },
	{ "anyone@sub.example.org", "@example.org", FALSE },
	{ "anyone@badexample.org", "@example.org", FALSE },
	{ "b@example.net", "a@example.com @example.net", TRUE },
	{ "a@example.com", "a@example.com @example.net", TRUE },
	{ "c@example.com", "a@example.com @example.net", FALSE },
	{ "a@example.com", "", FALSE },
};

static void test_allow_matches(void **state ATTR_UNUSED)
{
	ARRAY_TYPE(const_string) allow;
	const char *entry;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(allow_cases); i++) {
		if (readreceipt_allow_matches(allow_cases[i].addr,
				test_entries(allow_cases[i].entries)) !=
		    allow_cases[i].match) {
			fail_msg("case \"%s\" in \"%s\": expected %s",
				 allow_cases[i].addr, allow_cases[i].entries,
				 allow_cases[i].match ?
				 "a match" : "no match");
		}
	}

	/* An entry with a quoted local part, as the settings keep it (it
	   cannot be written in the space-separated table above). */
	t_array_init(&allow, 2);
	entry = "john doe@example.com";
	array_push_back(&allow, &entry);
	assert_true(readreceipt_allow_matches("john doe@EXAMPLE.com",
					      &allow));
	assert_false(readreceipt_allow_matches("john@example.com", &allow));
}

/* A quoted local part that starts with '@' (found by fuzz-policy). Its
   normalized form must not read like an "@domain" allow entry, for the
   reason the empty local part is refused: the address written on
   readreceipt_allow must let itself through, not become the entry of a
   domain "x@example.com" that matches nothing. Rejecting such addresses
   passes too. */
static void test_address_local_part_at(void **state ATTR_UNUSED)
{
	static const char *const inputs[] = {
		"\"@x\"@example.com",
		"\"@\"@example.com",
		"Name <\"@example.org\"@example.com>",
	};
	ARRAY_TYPE(const_string) addrs, allow;
	const char *addr, *error;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(inputs); i++) T_BEGIN {
		if (readreceipt_address_normalize(inputs[i], &addr,
						  &error) == 0) {
			if (addr[0] == '@') {
				fail_msg("case \"%s\": normalized to \"%s\"",
					 inputs[i], addr);
			}
			t_array_init(&allow, 1);
			array_push_back(&allow, &addr);
			if (!readreceipt_allow_matches(addr, &allow)) {
				fail_msg("case \"%s\": not allowed by its "
					 "own entry", inputs[i]);
			}
		}
		t_array_init(&addrs, 2);
		if (readreceipt_address_parse_list(inputs[i], &addrs) > 0) {
			addr = array_idx_elem(&addrs, 0);
			if (addr[0] == '@') {
				fail_msg("case \"%s\": listed as \"%s\"",
					 inputs[i], addr);
			}
		}
	} T_END;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_normalize),
		cmocka_unit_test(test_address_parse_list),
		cmocka_unit_test(test_address_parse_list_pool),
		cmocka_unit_test(test_address_parse_list_bound),
		cmocka_unit_test(test_address_parse_path),
		cmocka_unit_test(test_address_domain),
		cmocka_unit_test(test_address_equals),
		cmocka_unit_test(test_domain_matches),
		cmocka_unit_test(test_allow_matches),
		cmocka_unit_test(test_address_local_part_at),
	};

	return TEST_RUN("readreceipt-address", tests);
}
