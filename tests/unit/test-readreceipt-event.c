/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "str.h"
#include "readreceipt-event.h"

static const char *test_repeat_char(char c, size_t n)
{
	char *str = t_malloc0(n + 1);

	memset(str, c, n);
	return str;
}

static bool test_ends_with_marker(const char *str)
{
	size_t len = strlen(str), mlen = strlen(READRECEIPT_EVENT_TRUNCATED);

	return len >= mlen &&
		strcmp(str + len - mlen, READRECEIPT_EVENT_TRUNCATED) == 0;
}

/* SPEC §13: no event field over 1 KB, however long the value */
static void test_event_field_bound(void **state ATTR_UNUSED)
{
	const size_t max = READRECEIPT_EVENT_FIELD_MAX;
	const size_t marker = strlen(READRECEIPT_EVENT_TRUNCATED);
	const char *value, *field;

	T_BEGIN {
		assert_string_equal(readreceipt_event_field(NULL), "");
		assert_string_equal(readreceipt_event_field("a@b"), "a@b");

		/* exactly the bound: unchanged */
		value = test_repeat_char('a', max);
		assert_ptr_equal(readreceipt_event_field(value), value);

		/* one more: cut, with the marker */
		value = test_repeat_char('a', max + 1);
		field = readreceipt_event_field(value);
		assert_int_equal(strlen(field), max);
		assert_true(test_ends_with_marker(field));
		assert_int_equal(strspn(field, "a"), max - marker);

		/* 750 KB: still 1 KB */
		value = test_repeat_char('x', 750 * 1024);
		assert_int_equal(strlen(readreceipt_event_field(value)), max);

		/* never inside a UTF-8 sequence: "ä" is 2 bytes, the cut
		   falls after an odd number of bytes */
		{
			string_t *str = t_str_new(max * 2);

			str_append_c(str, 'a');
			while (str_len(str) < max * 2)
				str_append(str, "\xc3\xa4");
			field = readreceipt_event_field(str_c(str));
		}
		assert_true(strlen(field) <= max);
		assert_true(test_ends_with_marker(field));
		/* 'a' then whole "ä"s only */
		assert_int_equal((strlen(field) - marker - 1) % 2, 0);
	} T_END;
}

/* The log line carries the bounded values too. */
static void test_event_format_bounded(void **state ATTR_UNUSED)
{
	struct readreceipt_decision_info info;
	const char *line, *recipient;

	T_BEGIN {
		string_t *str = t_str_new(40000);
		unsigned int i;

		for (i = 0; i < 1000; i++)
			str_printfa(str, "%sx%u@ext.example",
				    i == 0 ? "" : ",", i);
		recipient = str_c(str);

		i_zero(&info);
		info.decision = "suppressed";
		info.reason = "invalid_request";
		info.trigger = "open";
		info.mode = "internal";
		info.mailbox = "INBOX";
		info.uid = 7;
		info.message_id = "<a@b>";
		info.recipient = recipient;
		line = readreceipt_event_format(&info);
		assert_non_null(strstr(line, "recipient=x0@ext.example,"));
		assert_non_null(strstr(line, READRECEIPT_EVENT_TRUNCATED));
		assert_true(strlen(line) < 2 * READRECEIPT_EVENT_FIELD_MAX);
	} T_END;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_field_bound),
		cmocka_unit_test(test_event_format_bounded),
	};
	return TEST_RUN("readreceipt-event", tests);
}
