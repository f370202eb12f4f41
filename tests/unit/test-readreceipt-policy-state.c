/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "array.h"
#include "str.h"
#include "readreceipt-policy-state.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void test_policy_state_roundtrip(void **state ATTR_UNUSED)
{
	struct readreceipt_policy_state in, out;
	const struct readreceipt_policy_entry *entry;
	pool_t pool = pool_datastack_create();
	string_t *str = t_str_new(256);

	readreceipt_policy_state_init(&in, pool);
	in.seen = 1700000000;
	in.config_usecs = 1700000000123456ULL;
	in.applied = 1700000001;
	in.error = "readreceipt_mode: unknown value \"a\tb\"\nx";
	readreceipt_policy_state_set(&in, pool, "readreceipt_mode", "disabled",
				     READRECEIPT_SOURCE_USERDB);
	/* values with tabs, line ends and the empty value survive */
	readreceipt_policy_state_set(&in, pool, "readreceipt_reporting_ua",
				     "mx\t1\n2", READRECEIPT_SOURCE_CONFIG);
	readreceipt_policy_state_set(&in, pool, "readreceipt_allow", "",
				     READRECEIPT_SOURCE_DEFAULT);
	/* setting again replaces */
	readreceipt_policy_state_set(&in, pool, "readreceipt_mode", "any",
				     READRECEIPT_SOURCE_CONFIG);
	assert_int_equal(array_count(&in.entries), 3);
	readreceipt_policy_state_write(&in, str);

	readreceipt_policy_state_init(&out, pool);
	readreceipt_policy_state_parse(&out, pool, str_c(str));
	assert_int_equal(out.seen, in.seen);
	assert_true(out.config_usecs == in.config_usecs);
	assert_int_equal(out.applied, in.applied);
	assert_string_equal(out.error, in.error);
	assert_int_equal(array_count(&out.entries), 3);
	entry = readreceipt_policy_state_find(&out, "readreceipt_mode");
	assert_non_null(entry);
	assert_string_equal(entry->value, "any");
	assert_string_equal(entry->source, READRECEIPT_SOURCE_CONFIG);
	entry = readreceipt_policy_state_find(&out,
					      "readreceipt_reporting_ua");
	assert_string_equal(entry->value, "mx\t1\n2");
	entry = readreceipt_policy_state_find(&out, "readreceipt_allow");
	assert_string_equal(entry->value, "");
	assert_null(readreceipt_policy_state_find(&out, "readreceipt_prompt"));
}

static void test_policy_state_damaged(void **state ATTR_UNUSED)
{
	struct readreceipt_policy_state st;
	pool_t pool = pool_datastack_create();

	/* unreadable lines are skipped, the rest is read */
	readreceipt_policy_state_init(&st, pool);
	readreceipt_policy_state_parse(&st, pool,
		"seen\tsoon\nconfig\t-1\nset\treadreceipt_mode\n"
		"set\ta\tb\tc\td\ngarbage\n\nset\treadreceipt_prompt\tuserdb\tno"
		"\nseen\t99999999999999999999\n");
	assert_int_equal(st.seen, 0);
	assert_true(st.config_usecs == 0);
	assert_null(st.error);
	assert_int_equal(array_count(&st.entries), 1);
	assert_string_equal(readreceipt_policy_state_find(&st,
		"readreceipt_prompt")->value, "no");
}

static void test_policy_state_diff(void **state ATTR_UNUSED)
{
	struct readreceipt_policy_state a, b;
	ARRAY_TYPE(const_string) names;
	pool_t pool = pool_datastack_create();
	bool validity;

	readreceipt_policy_state_init(&a, pool);
	readreceipt_policy_state_init(&b, pool);
	readreceipt_policy_state_set(&a, pool, "m", "internal", "config");
	readreceipt_policy_state_set(&a, pool, "p", "yes", "default");
	readreceipt_policy_state_set(&b, pool, "m", "internal", "userdb");
	readreceipt_policy_state_set(&b, pool, "p", "no", "userdb");
	readreceipt_policy_state_set(&b, pool, "n", "1", "default");

	/* a source of its own is no change; a value and a new entry are */
	t_array_init(&names, 4);
	readreceipt_policy_state_diff(&a, &b, &names, &validity);
	assert_int_equal(array_count(&names), 2);
	assert_string_equal(array_idx_elem(&names, 0), "p");
	assert_string_equal(array_idx_elem(&names, 1), "n");
	assert_false(validity);

	/* validity alone */
	array_clear(&names);
	b.error = "bad";
	readreceipt_policy_state_diff(&b, &b, &names, &validity);
	assert_int_equal(array_count(&names), 0);
	assert_false(validity);
	a.error = NULL;
	readreceipt_policy_state_diff(&a, &b, &names, &validity);
	assert_true(validity);
}

static void test_policy_stamp(void **state ATTR_UNUSED)
{
	struct readreceipt_policy_stamp stamp;
	struct stat st;
	char path[] = "/tmp/test-policy-stamp.XXXXXX";
	const char *tmp;
	int fd;

	fd = mkstemp(path);
	assert_true(fd != -1);
	i_close_fd(&fd);
	assert_int_equal(stat(path, &st), 0);
	readreceipt_policy_stamp_get(&stamp, &st);
	assert_true(readreceipt_policy_stamp_is(&stamp, &st));

	/* a rewrite renames another file into place */
	tmp = t_strconcat(path, ".new", NULL);
	fd = open(tmp, O_WRONLY | O_CREAT, 0600);
	assert_true(fd != -1);
	i_close_fd(&fd);
	assert_int_equal(rename(tmp, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_false(readreceipt_policy_stamp_is(&stamp, &st));
	i_unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_state_roundtrip),
		cmocka_unit_test(test_policy_state_damaged),
		cmocka_unit_test(test_policy_state_diff),
		cmocka_unit_test(test_policy_stamp),
	};

	return TEST_RUN("readreceipt-policy-state", tests);
}
