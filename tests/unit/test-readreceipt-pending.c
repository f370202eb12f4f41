/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "array.h"
#include "str.h"
#include "readreceipt-pending.h"

/* What lib says about invalid JSON: json-parser on 2.3, lib-json on 2.4 */
#if DOVECOT_PREREQ(2, 4, 0)
#  define TEST_LIB_ERROR(error_23, error_24) error_24
#else
#  define TEST_LIB_ERROR(error_23, error_24) error_23
#endif

#define TEST_FFFD "\xEF\xBF\xBD"
#define TEST_DIGITS_10 "1234567890"
#define TEST_DIGITS_100 TEST_DIGITS_10 TEST_DIGITS_10 TEST_DIGITS_10 \
	TEST_DIGITS_10 TEST_DIGITS_10 TEST_DIGITS_10 TEST_DIGITS_10 \
	TEST_DIGITS_10 TEST_DIGITS_10 TEST_DIGITS_10
#define TEST_DIGITS_1000 TEST_DIGITS_100 TEST_DIGITS_100 TEST_DIGITS_100 \
	TEST_DIGITS_100 TEST_DIGITS_100 TEST_DIGITS_100 TEST_DIGITS_100 \
	TEST_DIGITS_100 TEST_DIGITS_100 TEST_DIGITS_100
/* 20 arrays, one inside the other */
#define TEST_NEST_20 "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"

/*
 * Helpers
 */

/* str with every byte outside printable ASCII as \xNN, for messages. */
static const char *test_printable(const char *str)
{
	string_t *out = t_str_new(128);

	if (str == NULL)
		return "(null)";
	for (; *str != '\0'; str++) {
		unsigned char c = *str;

		if (c < 0x20 || c >= 0x7f || c == '\\')
			str_printfa(out, "\\x%02x", c);
		else
			str_append_c(out, c);
	}
	return str_c(out);
}

static void
test_check_str(const char *case_name, const char *what,
	       const char *expected, const char *actual)
{
	if (null_strcmp(expected, actual) != 0) {
		fail_msg("case \"%s\": %s: expected \"%s\", got \"%s\"",
			 case_name, what, test_printable(expected),
			 test_printable(actual));
	}
}

/* The addresses joined with " ". */
static const char *test_join_to(const struct readreceipt_pending *pending)
{
	string_t *str = t_str_new(128);
	const char *addr;

	array_foreach_elem(&pending->to, addr) {
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, addr);
	}
	return str_c(str);
}

/* A pending entry on the data stack; to is a list separated by spaces. */
static struct readreceipt_pending *
test_pending(const char *to, const char *subject, const char *message_id,
	     const char *reason, time_t since)
{
	struct readreceipt_pending *pending;
	const char *const *list = t_strsplit_spaces(to, " ");

	pending = t_new(struct readreceipt_pending, 1);
	t_array_init(&pending->to, 4);
	for (; *list != NULL; list++)
		array_push_back(&pending->to, list);
	pending->subject = subject;
	pending->message_id = message_id;
	pending->reason = reason;
	pending->since = since;
	return pending;
}

static const char *test_to_json(const struct readreceipt_pending *pending)
{
	string_t *json = t_str_new(256);

	readreceipt_pending_to_json(pending, json);
	return str_c(json);
}

/*
 * A strict RFC 8259 validator, written apart from the parser under test so
 * that the writer's output is not only checked by its own reader. Strings
 * must be well-formed UTF-8 (RFC 3629, Unicode Table 3-7).
 */

struct test_json {
	const unsigned char *p, *end;
};

static bool test_json_value(struct test_json *j, unsigned int depth);

static void test_json_ws(struct test_json *j)
{
	while (j->p < j->end &&
	       (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' ||
		*j->p == '\n'))
		j->p++;
}

static bool test_json_byte_in(struct test_json *j, unsigned char lo,
			      unsigned char hi)
{
	if (j->p >= j->end || *j->p < lo || *j->p > hi)
		return FALSE;
	j->p++;
	return TRUE;
}

static bool test_json_utf8(struct test_json *j)
{
	unsigned char c = *j->p++;
	unsigned int i, count;

	if (c >= 0xc2 && c <= 0xdf)
		count = 1;
	else if (c == 0xe0) {
		if (!test_json_byte_in(j, 0xa0, 0xbf))
			return FALSE;
		count = 1;
	} else if (c == 0xed) {
		if (!test_json_byte_in(j, 0x80, 0x9f))
			return FALSE;
		count = 1;
	} else if (c >= 0xe1 && c <= 0xef)
		count = 2;
	else if (c == 0xf0) {
		if (!test_json_byte_in(j, 0x90, 0xbf))
			return FALSE;
		count = 2;
	} else if (c == 0xf4) {
		if (!test_json_byte_in(j, 0x80, 0x8f))
			return FALSE;
		count = 2;
	} else if (c >= 0xf1 && c <= 0xf3)
		count = 3;
	else
		return FALSE;
	for (i = 0; i < count; i++) {
		if (!test_json_byte_in(j, 0x80, 0xbf))
			return FALSE;
	}
	return TRUE;
}

static bool test_json_string(struct test_json *j)
{
	unsigned int i;

	if (!test_json_byte_in(j, '"', '"'))
		return FALSE;
	while (j->p < j->end) {
		unsigned char c = *j->p;

		if (c == '"') {
			j->p++;
			return TRUE;
		}
		if (c < 0x20)
			return FALSE;
		if (c >= 0x80) {
			if (!test_json_utf8(j))
				return FALSE;
			continue;
		}
		j->p++;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return FALSE;
		c = *j->p++;
		if (c == 'u') {
			for (i = 0; i < 4; i++) {
				if (j->p >= j->end || *j->p == '\0' ||
				    strchr("0123456789abcdefABCDEF",
					   *j->p) == NULL)
					return FALSE;
				j->p++;
			}
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
			return FALSE;
		}
	}
	return FALSE;
}

static bool test_json_digits(struct test_json *j)
{
	if (!test_json_byte_in(j, '0', '9'))
		return FALSE;
	while (test_json_byte_in(j, '0', '9')) ;
	return TRUE;
}

static bool test_json_number(struct test_json *j)
{
	(void)test_json_byte_in(j, '-', '-');
	if (!test_json_byte_in(j, '0', '0') && !test_json_digits(j))
		return FALSE;
	if (test_json_byte_in(j, '.', '.') && !test_json_digits(j))
		return FALSE;
	if (test_json_byte_in(j, 'e', 'e') || test_json_byte_in(j, 'E', 'E')) {
		if (!test_json_byte_in(j, '+', '+'))
			(void)test_json_byte_in(j, '-', '-');
		if (!test_json_digits(j))
			return FALSE;
	}
	return TRUE;
}

static bool test_json_literal(struct test_json *j, const char *literal)
{
	size_t len = strlen(literal);

	if ((size_t)(j->end - j->p) < len || memcmp(j->p, literal, len) != 0)
		return FALSE;
	j->p += len;
	return TRUE;
}

static bool test_json_container(struct test_json *j, unsigned int depth)
{
	bool object = *j->p == '{';
	unsigned char close = object ? '}' : ']';

	j->p++;
	test_json_ws(j);
	if (test_json_byte_in(j, close, close))
		return TRUE;
	for (;;) {
		if (object) {
			test_json_ws(j);
			if (!test_json_string(j))
				return FALSE;
			test_json_ws(j);
			if (!test_json_byte_in(j, ':', ':'))
				return FALSE;
		}
		if (!test_json_value(j, depth + 1))
			return FALSE;
		test_json_ws(j);
		if (test_json_byte_in(j, close, close))
			return TRUE;
		if (!test_json_byte_in(j, ',', ','))
			return FALSE;
	}
}

static bool test_json_value(struct test_json *j, unsigned int depth)
{
	if (depth > 10000)
		return FALSE;
	test_json_ws(j);
	if (j->p >= j->end)
		return FALSE;
	switch (*j->p) {
	case '"':
		return test_json_string(j);
	case '{':
	case '[':
		return test_json_container(j, depth);
	case 't':
		return test_json_literal(j, "true");
	case 'f':
		return test_json_literal(j, "false");
	case 'n':
		return test_json_literal(j, "null");
	}
	return test_json_number(j);
}

static bool test_json_valid_data(const void *data, size_t size)
{
	struct test_json j = {
		.p = data,
		.end = CONST_PTR_OFFSET(data, size),
	};

	if (!test_json_value(&j, 0))
		return FALSE;
	test_json_ws(&j);
	return j.p == j.end;
}

static bool test_json_valid(const char *json)
{
	return test_json_valid_data(json, strlen(json));
}

/* What every output of readreceipt_pending_to_json() must be: valid JSON
   without raw C0 control characters (DEL is valid JSON, and
   json_append_escaped() leaves it raw). */
static void test_check_output(const char *case_name, const char *json)
{
	const unsigned char *p;

	if (!test_json_valid(json)) {
		fail_msg("case \"%s\": invalid JSON: %s", case_name,
			 test_printable(json));
	}
	for (p = (const unsigned char *)json; *p != '\0'; p++) {
		if (*p < 0x20) {
			fail_msg("case \"%s\": raw control character 0x%02x "
				 "in %s", case_name, *p,
				 test_printable(json));
		}
	}
}

/* The validator itself: a test that cannot fail is a defect. */
static const struct {
	const char *json;
	bool valid;
} validator_cases[] = {
	{ "{}", TRUE },
	{ " [ ] ", TRUE },
	{ "[1,-0.5e+3,0,2E-7,\"a\",true,false,null,{\"k\":[{}]}]", TRUE },
	{ "\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\"", TRUE },
	{ "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\"", TRUE },
	{ "", FALSE },
	{ " ", FALSE },
	{ "{", FALSE },
	{ "\"", FALSE },
	{ "{\"a\":1,}", FALSE },
	{ "[1,]", FALSE },
	{ "[01]", FALSE },
	{ "[1.]", FALSE },
	{ "[.5]", FALSE },
	{ "[1e]", FALSE },
	{ "[-]", FALSE },
	{ "[+1]", FALSE },
	{ "[1 2]", FALSE },
	{ "tru", FALSE },
	{ "{'a':1}", FALSE },
	{ "{a:1}", FALSE },
	{ "{} {}", FALSE },
	{ "\"\\q\"", FALSE },
	{ "\"\\u12\"", FALSE },
	{ "\"\x01\"", FALSE },
	{ "\"\t\"", FALSE },
	{ "\"a\xFF\"", FALSE },
	{ "\"\xC0\xAF\"", FALSE },
	{ "\"\xE0\x80\xAF\"", FALSE },
	{ "\"\xED\xA0\x80\"", FALSE },
	{ "\"\xF4\x90\x80\x80\"", FALSE },
	{ "\"\xE2\x82\"", FALSE },
	{ "\"\x80\"", FALSE },
};

static void test_validator(void **state ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(validator_cases); i++) {
		if (test_json_valid(validator_cases[i].json) !=
		    validator_cases[i].valid) {
			fail_msg("validator case \"%s\": expected %s",
				 test_printable(validator_cases[i].json),
				 validator_cases[i].valid ?
				 "valid" : "invalid");
		}
	}
}

/*
 * to_json and back
 */

static const struct {
	const char *name;
	const char *to, *subject, *message_id, *reason;
	time_t since;
	const char *json;
} round_trip_cases[] = {
	{ "plain", "alice@example.com", "Hello", "<abc@example.com>",
	  READRECEIPT_PENDING_REASON_PROMPT, 1700000000,
	  "{\"to\":[\"alice@example.com\"],\"subject\":\"Hello\","
	  "\"message_id\":\"<abc@example.com>\",\"reason\":\"prompt\","
	  "\"since\":1700000000}" },
	{ "multiple recipients",
	  "alice@example.com bob@example.org c@[192.0.2.1]",
	  "Quarterly report", "<1.2@mx.example.com>",
	  READRECEIPT_PENDING_REASON_RETRY, 1700000001,
	  "{\"to\":[\"alice@example.com\",\"bob@example.org\","
	  "\"c@[192.0.2.1]\"],\"subject\":\"Quarterly report\","
	  "\"message_id\":\"<1.2@mx.example.com>\",\"reason\":\"retry\","
	  "\"since\":1700000001}" },
	{ "empty subject and message-id", "a@example.com", "", "",
	  READRECEIPT_PENDING_REASON_RATE_LIMITED, 0,
	  "{\"to\":[\"a@example.com\"],\"subject\":\"\",\"message_id\":\"\","
	  "\"reason\":\"rate_limited\",\"since\":0}" },
	{ "consent_required", "a@example.com", "s", "<m@x>",
	  READRECEIPT_PENDING_REASON_CONSENT_REQUIRED, 1,
	  "{\"to\":[\"a@example.com\"],\"subject\":\"s\","
	  "\"message_id\":\"<m@x>\",\"reason\":\"consent_required\","
	  "\"since\":1}" },
	{ "unprompted, time after 2038", "a@example.com", "s", "<m@x>",
	  READRECEIPT_PENDING_REASON_UNPROMPTED, 4102444800LL,
	  "{\"to\":[\"a@example.com\"],\"subject\":\"s\","
	  "\"message_id\":\"<m@x>\",\"reason\":\"unprompted\","
	  "\"since\":4102444800}" },
	{ "quote in address and message-id", "odd\"name@example.com",
	  "x", "<\"q\\\"@example.com>",
	  READRECEIPT_PENDING_REASON_PROMPT, 5,
	  "{\"to\":[\"odd\\\"name@example.com\"],\"subject\":\"x\","
	  "\"message_id\":\"<\\\"q\\\\\\\"@example.com>\","
	  "\"reason\":\"prompt\",\"since\":5}" },
	{ "JSON in the subject", "a@example.com",
	  "\",\"reason\":\"send\",\"x\":\"", "<m@x>",
	  READRECEIPT_PENDING_REASON_PROMPT, 7,
	  "{\"to\":[\"a@example.com\"],"
	  "\"subject\":\"\\\",\\\"reason\\\":\\\"send\\\",\\\"x\\\":\\\"\","
	  "\"message_id\":\"<m@x>\",\"reason\":\"prompt\",\"since\":7}" },
};

static void test_round_trip(void **state ATTR_UNUSED)
{
	struct readreceipt_pending *pending, parsed;
	const char *json, *error;
	unsigned int i;
	pool_t pool;

	pool = pool_alloconly_create("test pending", 1024);
	for (i = 0; i < N_ELEMENTS(round_trip_cases); i++) {
		const char *name = round_trip_cases[i].name;

		pending = test_pending(round_trip_cases[i].to,
				       round_trip_cases[i].subject,
				       round_trip_cases[i].message_id,
				       round_trip_cases[i].reason,
				       round_trip_cases[i].since);
		json = test_to_json(pending);
		test_check_str(name, "json", round_trip_cases[i].json, json);
		test_check_output(name, json);

		error = NULL;
		if (readreceipt_pending_from_json(pool, json, &parsed,
						  &error) < 0)
			fail_msg("case \"%s\": rejected: %s", name, error);
		test_check_str(name, "to", round_trip_cases[i].to,
			       test_join_to(&parsed));
		test_check_str(name, "subject", round_trip_cases[i].subject,
			       parsed.subject);
		test_check_str(name, "message_id",
			       round_trip_cases[i].message_id,
			       parsed.message_id);
		test_check_str(name, "reason", round_trip_cases[i].reason,
			       parsed.reason);
		assert_int_equal(parsed.since, round_trip_cases[i].since);
		test_check_str(name, "json again", json,
			       test_to_json(&parsed));
		p_clear(pool);
	}
	pool_unref(&pool);
}

/* A subject or Message-ID that could not be read is written as "". */
static void test_to_json_null_strings(void **state ATTR_UNUSED)
{
	struct readreceipt_pending *pending;

	pending = test_pending("a@example.com", NULL, NULL,
			       READRECEIPT_PENDING_REASON_PROMPT, 3);
	assert_string_equal(test_to_json(pending),
		"{\"to\":[\"a@example.com\"],\"subject\":\"\","
		"\"message_id\":\"\",\"reason\":\"prompt\",\"since\":3}");
}

static const struct {
	const char *name;
	const char *subject;
	/* the subject as written (with its quotes) */
	const char *json;
	/* the subject read back */
	const char *decoded;
} hostile_cases[] = {
	{ "quotes", "say \"hi\"", "\"say \\\"hi\\\"\"", "say \"hi\"" },
	{ "backslashes", "a\\b\\\\c\\", "\"a\\\\b\\\\\\\\c\\\\\"",
	  "a\\b\\\\c\\" },
	{ "escape lookalike", "\\u0041\\n", "\"\\\\u0041\\\\n\"",
	  "\\u0041\\n" },
	{ "CR LF TAB", "a\r\nb\tc", "\"a\\r\\nb\\tc\"", "a\r\nb\tc" },
	{ "other control characters", "\x01\x08\x0c\x1b\x1f",
	  "\"\\u0001\\b\\f\\u001b\\u001f\"",
	  "\x01\x08\x0c\x1b\x1f" },
	/* json_append_escaped() leaves DEL and the C1 controls raw: valid
	   JSON (RFC 8259 §7 escapes only U+0000 to U+001F) */
	{ "DEL", "a\x7f" "b", "\"a\x7f" "b\"", "a\x7f" "b" },
	{ "slash is not escaped", "a/b", "\"a/b\"", "a/b" },
	{ "2-byte UTF-8", "caf\xC3\xA9", "\"caf\xC3\xA9\"", "caf\xC3\xA9" },
	{ "3-byte UTF-8", "\xE2\x82\xAC 5", "\"\xE2\x82\xAC 5\"",
	  "\xE2\x82\xAC 5" },
	{ "4-byte UTF-8", "\xF0\x9F\x98\x80!", "\"\xF0\x9F\x98\x80!\"",
	  "\xF0\x9F\x98\x80!" },
	{ "highest code point", "\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\"",
	  "\xF4\x8F\xBF\xBF" },
	{ "C1 control", "a\xC2\x85" "b", "\"a\xC2\x85" "b\"",
	  "a\xC2\x85" "b" },
	{ "line separators", "\xE2\x80\xA8\xE2\x80\xA9",
	  "\"\\u2028\\u2029\"", "\xE2\x80\xA8\xE2\x80\xA9" },
	{ "invalid byte", "a\xFF" "b", "\"a" TEST_FFFD "b\"",
	  "a" TEST_FFFD "b" },
	{ "Latin-1", "caf\xE9", "\"caf" TEST_FFFD "\"",
	  "caf" TEST_FFFD },
	{ "stray continuation byte", "\x80x", "\"" TEST_FFFD "x\"",
	  TEST_FFFD "x" },
	{ "cut at the end", "ab\xE2\x82", "\"ab" TEST_FFFD TEST_FFFD "\"",
	  "ab" TEST_FFFD TEST_FFFD },
	{ "cut before ASCII", "\xF0\x9F\x98\"", "\"" TEST_FFFD TEST_FFFD
	  TEST_FFFD "\\\"\"", TEST_FFFD TEST_FFFD TEST_FFFD "\"" },
	{ "overlong", "\xC0\xAF", "\"" TEST_FFFD TEST_FFFD "\"",
	  TEST_FFFD TEST_FFFD },
	{ "overlong 3 bytes", "\xE0\x80\xA2",
	  "\"" TEST_FFFD TEST_FFFD TEST_FFFD "\"",
	  TEST_FFFD TEST_FFFD TEST_FFFD },
	{ "encoded surrogate", "\xED\xA0\x80",
	  "\"" TEST_FFFD TEST_FFFD TEST_FFFD "\"",
	  TEST_FFFD TEST_FFFD TEST_FFFD },
	{ "beyond U+10FFFF", "\xF4\x90\x80\x80",
	  "\"" TEST_FFFD TEST_FFFD TEST_FFFD TEST_FFFD "\"",
	  TEST_FFFD TEST_FFFD TEST_FFFD TEST_FFFD },
	{ "5-byte form", "\xF8\x88\x80\x80\x80",
	  "\"" TEST_FFFD TEST_FFFD TEST_FFFD TEST_FFFD TEST_FFFD "\"",
	  TEST_FFFD TEST_FFFD TEST_FFFD TEST_FFFD TEST_FFFD },
	{ "replacement character itself", TEST_FFFD, "\"" TEST_FFFD "\"",
	  TEST_FFFD },
};

static void test_hostile_subjects(void **state ATTR_UNUSED)
{
	struct readreceipt_pending *pending, parsed;
	const char *json, *expected, *error;
	unsigned int i;
	pool_t pool;

	pool = pool_alloconly_create("test pending", 1024);
	for (i = 0; i < N_ELEMENTS(hostile_cases); i++) {
		const char *name = hostile_cases[i].name;

		pending = test_pending("a@example.com",
				       hostile_cases[i].subject, "<m@x>",
				       READRECEIPT_PENDING_REASON_PROMPT, 9);
		json = test_to_json(pending);
		expected = t_strdup_printf(
			"{\"to\":[\"a@example.com\"],\"subject\":%s,"
			"\"message_id\":\"<m@x>\",\"reason\":\"prompt\","
			"\"since\":9}", hostile_cases[i].json);
		test_check_str(name, "json", expected, json);
		test_check_output(name, json);

		error = NULL;
		if (readreceipt_pending_from_json(pool, json, &parsed,
						  &error) < 0)
			fail_msg("case \"%s\": rejected: %s", name, error);
		test_check_str(name, "subject", hostile_cases[i].decoded,
			       parsed.subject);
		p_clear(pool);
	}
	pool_unref(&pool);
}

/* Every string of one or two bytes (0x01..0xff) as an address, subject
   and Message-ID: the output is valid, reads back, and writing what was
   read gives the same value again. ASCII, control characters included,
   comes back unchanged. */
static void test_all_short_strings(void **state ATTR_UNUSED)
{
	struct readreceipt_pending *pending, parsed;
	const char *json, *error, *value;
	unsigned char buf[3];
	unsigned int a, b;
	pool_t pool;

	pool = pool_alloconly_create("test pending", 1024);
	for (a = 1; a < 256; a++) {
		for (b = 0; b < 256; b++) T_BEGIN {
			buf[0] = a;
			buf[1] = b;
			buf[2] = '\0';
			value = (const char *)buf;
			pending = test_pending("a@example.com", value, value,
				READRECEIPT_PENDING_REASON_PROMPT, 1);
			array_idx_set(&pending->to, 0, &value);
			json = test_to_json(pending);
			test_check_output(test_printable(value), json);
			error = NULL;
			if (readreceipt_pending_from_json(pool, json, &parsed,
							  &error) < 0) {
				fail_msg("\"%s\": rejected: %s",
					 test_printable(value), error);
			}
			test_check_str(test_printable(value), "json again",
				       json, test_to_json(&parsed));
			if (a < 0x80 && b < 0x80) {
				test_check_str(test_printable(value), "to",
					       value, test_join_to(&parsed));
				test_check_str(test_printable(value),
					       "subject", value,
					       parsed.subject);
			}
			p_clear(pool);
		} T_END;
	}
	pool_unref(&pool);
}

/* A very long hostile subject stays valid and reads back; the writer does
   not cut, so the caller must keep the value under
   READRECEIPT_PENDING_JSON_MAX. */
static void test_long_subject(void **state ATTR_UNUSED)
{
	struct readreceipt_pending *pending, parsed;
	string_t *subject, *decoded;
	const char *json, *error;
	unsigned int i;
	pool_t pool;

	subject = t_str_new(8192);
	decoded = t_str_new(8192);
	/* 23 bytes of JSON each */
	for (i = 0; i < 2700; i++) {
		str_append(subject, "\"\\\x01\xC3\xA9\xFF\r\n\xF0\x9F\x98\x80");
		str_append(decoded, "\"\\\x01\xC3\xA9" TEST_FFFD
			   "\r\n\xF0\x9F\x98\x80");
	}
	pending = test_pending("a@example.com", str_c(subject), "<m@x>",
			       READRECEIPT_PENDING_REASON_PROMPT, 9);
	json = test_to_json(pending);
	test_check_output("long subject", json);
	assert_true(strlen(json) > 60000);
	assert_true(strlen(json) <= READRECEIPT_PENDING_JSON_MAX);

	pool = pool_alloconly_create("test pending", 1024);
	if (readreceipt_pending_from_json(pool, json, &parsed, &error) < 0)
		fail_msg("long subject rejected: %s", error);
	assert_string_equal(parsed.subject, str_c(decoded));

	/* twice as long: still valid JSON, but too large to be read */
	str_append_str(subject, subject);
	pending->subject = str_c(subject);
	json = test_to_json(pending);
	test_check_output("too long subject", json);
	assert_int_equal(readreceipt_pending_from_json(pool, json, &parsed,
						       &error), -1);
	assert_non_null(strstr(error, "too large"));
	pool_unref(&pool);
}

/*
 * from_json
 */

static const struct {
	const char *name;
	const char *json;
	const char *to, *subject, *message_id, *reason;
	time_t since;
} accept_cases[] = {
	{ "whitespace everywhere",
	  " \r\n\t{ \"to\" : [ \"a@example.com\" , \"b@example.com\" ] ,\n"
	  "\t\"subject\" : \"s\" , \"message_id\" : \"m\" ,"
	  " \"reason\" : \"retry\" , \"since\" : 12 }\n ",
	  "a@example.com b@example.com", "s", "m", "retry", 12 },
	{ "other key order",
	  "{\"since\":1,\"reason\":\"prompt\",\"message_id\":\"m\","
	  "\"subject\":\"s\",\"to\":[\"a@example.com\"]}",
	  "a@example.com", "s", "m", "prompt", 1 },
	{ "unknown keys",
	  "{\"x\":{\"a\":[1,2,{\"b\":null}],\"to\":\"no\"},"
	  "\"to\":[\"a@example.com\"],\"n\":-1.5e+10,\"t\":true,"
	  "\"f\":false,\"z\":null,\"s\":\"\\\"\","
	  "\"subject\":\"s\",\"message_id\":\"m\",\"arr\":[],"
	  "\"obj\":{},\"reason\":\"unprompted\",\"since\":0,"
	  "\"\":\"\",\"version\":2}",
	  "a@example.com", "s", "m", "unprompted", 0 },
	{ "escapes",
	  "{\"to\":[\"a\\u0040example.com\"],"
	  "\"subject\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC"
	  "\\ud83d\\ude00\\uD83D\\uDE00\\u0001\","
	  "\"message_id\":\"<m\\u003e\",\"reason\":\"r\\u0065try\","
	  "\"since\":5}",
	  "a@example.com",
	  "\"\\/\b\f\n\r\t\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
	  "\xF0\x9F\x98\x80\x01", "<m>", "retry", 5 },
	{ "raw UTF-8", "{\"to\":[\"a@example.com\"],\"subject\":"
	  "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x7f\",\"message_id\":\"\","
	  "\"reason\":\"prompt\",\"since\":1}",
	  "a@example.com", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x7f", "",
	  "prompt", 1 },
	{ "huge numbers in unknown keys",
	  "{\"n\":" TEST_DIGITS_1000 ",\"m\":-" TEST_DIGITS_100 "."
	  TEST_DIGITS_100 "e+" TEST_DIGITS_100 ",\"to\":[\"a@example.com\"],"
	  "\"subject\":\"\",\"message_id\":\"\",\"reason\":\"prompt\","
	  "\"since\":2}",
	  "a@example.com", "", "", "prompt", 2 },
	{ "duplicate unknown keys",
	  "{\"x\":1,\"x\":[2],\"to\":[\"a@example.com\"],"
	  "\"subject\":\"\",\"message_id\":\"\",\"reason\":\"prompt\","
	  "\"since\":3}",
	  "a@example.com", "", "", "prompt", 3 },
	{ "largest time", "{\"to\":[\"a@example.com\"],\"subject\":\"\","
	  "\"message_id\":\"\",\"reason\":\"prompt\","
	  "\"since\":9223372036854775807}",
	  "a@example.com", "", "", "prompt", 9223372036854775807LL },
};

static const struct {
	const char *name;
	const char *json;
	/* a part of the error */
	const char *error;
} reject_cases[] = {
	{ "empty", "", "Invalid JSON" },
	{ "only whitespace", " \n", "Invalid JSON" },
	{ "array", "[]", "Not a JSON object" },
	{ "string", "\"to\"", "Not a JSON object" },
	{ "null", "null", "Not a JSON object" },
	{ "BOM", "\xEF\xBB\xBF{}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid data as value",
		"Invalid JSON: Encountered byte order mark") },
	{ "empty object", "{}", "Missing key \"to\"" },
	{ "missing to", "{\"subject\":\"\",\"message_id\":\"\","
	  "\"reason\":\"prompt\",\"since\":1}", "Missing key \"to\"" },
	{ "missing subject", "{\"to\":[\"a@b\"],\"message_id\":\"\","
	  "\"reason\":\"prompt\",\"since\":1}", "Missing key \"subject\"" },
	{ "missing message_id", "{\"to\":[\"a@b\"],\"subject\":\"\","
	  "\"reason\":\"prompt\",\"since\":1}",
	  "Missing key \"message_id\"" },
	{ "missing reason", "{\"to\":[\"a@b\"],\"subject\":\"\","
	  "\"message_id\":\"\",\"since\":1}", "Missing key \"reason\"" },
	{ "missing since", "{\"to\":[\"a@b\"],\"subject\":\"\","
	  "\"message_id\":\"\",\"reason\":\"prompt\"}",
	  "Missing key \"since\"" },
	{ "key in other case", "{\"To\":[\"a@b\"],\"subject\":\"\","
	  "\"message_id\":\"\",\"reason\":\"prompt\",\"since\":1}",
	  "Missing key \"to\"" },
	{ "to is a string", "{\"to\":\"a@b\"}", "\"to\" is not an array" },
	{ "to is an object", "{\"to\":{\"a\":\"a@b\"}}",
	  "\"to\" is not an array" },
	{ "to is null", "{\"to\":null}", "\"to\" is not an array" },
	{ "to is empty", "{\"to\":[]}", "\"to\" has no address" },
	{ "to has a number", "{\"to\":[\"a@b\",1]}",
	  "\"to\" has an item that is not a string" },
	{ "to has an array", "{\"to\":[[\"a@b\"]]}",
	  "\"to\" has an item that is not a string" },
	{ "to has null", "{\"to\":[null]}",
	  "\"to\" has an item that is not a string" },
	{ "to has an empty address", "{\"to\":[\"a@b\",\"\"]}",
	  "\"to\" has an empty address" },
	{ "subject is a number", "{\"subject\":5}",
	  "\"subject\" is not a string" },
	{ "subject is null", "{\"subject\":null}",
	  "\"subject\" is not a string" },
	{ "subject is an array", "{\"subject\":[\"s\"]}",
	  "\"subject\" is not a string" },
	{ "message_id is false", "{\"message_id\":false}",
	  "\"message_id\" is not a string" },
	{ "reason is true", "{\"reason\":true}",
	  "\"reason\" is not a string" },
	{ "unknown reason", "{\"reason\":\"send\"}",
	  "Unknown \"reason\" \"send\"" },
	{ "reason in capitals", "{\"reason\":\"PROMPT\"}",
	  "Unknown \"reason\" \"PROMPT\"" },
	{ "empty reason", "{\"reason\":\"\"}", "Unknown \"reason\" \"\"" },
	{ "reason with control characters", "{\"reason\":\"a\\r\\nb\"}",
	  "Unknown \"reason\" \"a??b\"" },
	{ "since is a string", "{\"since\":\"1\"}",
	  "\"since\" is not a number" },
	{ "since is null", "{\"since\":null}", "\"since\" is not a number" },
	{ "since is negative", "{\"since\":-1}", "\"since\" is negative" },
	{ "since is minus zero", "{\"since\":-0}", "\"since\" is negative" },
	{ "since has a fraction", "{\"since\":1.5}",
	  "\"since\" is not an integer" },
	{ "since has a zero fraction", "{\"since\":1.0}",
	  "\"since\" is not an integer" },
	{ "since has an exponent", "{\"since\":1e3}",
	  "\"since\" is not an integer" },
	{ "since too large for time_t", "{\"since\":9223372036854775808}",
	  "\"since\" is out of range" },
	{ "since too large for anything",
	  "{\"since\":99999999999999999999999999}",
	  "\"since\" is out of range" },
	{ "since with a leading zero", "{\"since\":01}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Expected ',' or '}' after object value",
		"Invalid JSON: Numbers cannot have leading zeros") },
	{ "since with a plus", "{\"since\":+1}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid data as value",
		"Invalid JSON: Expected value, but encountered '+'") },
	{ "since in hex", "{\"since\":0x10}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Expected ',' or '}' after object value",
		"Invalid JSON: Expected ',' or '}', but encountered 'x'") },
	{ "since without digits", "{\"since\":-}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid data as value",
		"Invalid JSON: Expected digit, but encountered '}'") },
	{ "duplicate key", "{\"subject\":\"a\",\"subject\":\"b\"}",
	  "Duplicate key \"subject\"" },
	{ "duplicate to", "{\"to\":[\"a@b\"],\"to\":[\"c@d\"]}",
	  "Duplicate key \"to\"" },
	{ "trailing comma in object", "{\"subject\":\"a\",}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Expected string as object key",
		"Invalid JSON: Expected string, but encountered '}'") },
	{ "trailing comma in array", "{\"to\":[\"a@b\",]}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid data as value",
		"Invalid JSON: Expected value, but encountered ']'") },
	{ "missing comma", "{\"subject\":\"a\" \"message_id\":\"b\"}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Expected ',' or '}' after object value",
		"Invalid JSON: Expected ',' or '}', but encountered '\"'") },
	{ "missing colon", "{\"subject\" \"a\"}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Expected ':' after key",
		"Invalid JSON: Expected ':', but encountered '\"'") },
	{ "single quotes", "{'subject':'a'}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Expected string as object key",
		"Invalid JSON: Expected string, but encountered '''") },
	{ "unquoted key", "{subject:\"a\"}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Expected string as object key",
		"Invalid JSON: Expected string, but encountered 's'") },
	{ "comment", "{/* x */}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Expected string as object key",
		"Invalid JSON: Expected string, but encountered '/'") },
	{ "trailing garbage",
	  "{\"to\":[\"a@b\"],\"subject\":\"\",\"message_id\":\"\","
	  "\"reason\":\"prompt\",\"since\":1} x",
	  TEST_LIB_ERROR(
		"Invalid JSON: Unexpected data at the end",
		"Invalid JSON: Spurious data at end of JSON text") },
	{ "two objects",
	  "{\"to\":[\"a@b\"],\"subject\":\"\",\"message_id\":\"\","
	  "\"reason\":\"prompt\",\"since\":1}{}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Unexpected data at the end",
		"Invalid JSON: Spurious data at end of JSON text") },
	{ "invalid JSON wins over a wrong type",
	  "{\"to\":\"a@b\",\"subject\":}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid data as value",
		"Invalid JSON: Expected value, but encountered '}'") },
	{ "invalid UTF-8", "{\"subject\":\"caf\xE9\"}",
	  TEST_LIB_ERROR(
		"Invalid UTF-8 in the string \"caf",
		"Invalid JSON: Invalid UTF-8 character") },
	{ "encoded surrogate", "{\"subject\":\"\xED\xA0\x80\"}",
	  "Invalid UTF-8" },
	{ "overlong UTF-8", "{\"subject\":\"\xC0\xAF\"}", "Invalid UTF-8" },
	{ "invalid UTF-8 in a key", "{\"\xFF\":1}", "Invalid UTF-8" },
	{ "invalid UTF-8 in an unknown value", "{\"x\":\"\xFF\"}",
	  "Invalid UTF-8" },
	{ "NUL escape", "{\"subject\":\"a\\u0000b\"}",
	  TEST_LIB_ERROR(
		"Invalid JSON: \\u0000 not supported in strings",
		"Invalid JSON: String contains escaped NUL character") },
	{ "NUL escape in an unknown value", "{\"x\":\"\\u0000\"}",
	  TEST_LIB_ERROR(
		"Invalid JSON: \\u0000 not supported in strings",
		"Invalid JSON: String contains escaped NUL character") },
	{ "lone high surrogate", "{\"subject\":\"\\ud83d\"}",
	  TEST_LIB_ERROR(
		"High surrogate 0xd83d seen, but not followed by low "
		"surrogate",
		"Invalid JSON: String contains lonely Unicode high "
		"surrogate '\\uD83D'") },
	{ "high surrogate and a letter", "{\"subject\":\"\\ud83dx\"}",
	  TEST_LIB_ERROR(
		"High surrogate 0xd83d seen, but not followed by low "
		"surrogate",
		"Invalid JSON: String contains lonely Unicode high "
		"surrogate '\\uD83D'") },
	{ "two high surrogates", "{\"subject\":\"\\ud83d\\ud83d\"}",
	  TEST_LIB_ERROR(
		"High surrogate 0xd83d seen, but not followed by low "
		"surrogate",
		"Invalid JSON: String contains lonely Unicode high "
		"surrogate '\\uD83D'") },
	{ "high surrogate and BMP escape", "{\"subject\":\"\\ud83d\\u0041\"}",
	  TEST_LIB_ERROR(
		"High surrogate 0xd83d seen, but not followed by low "
		"surrogate",
		"Invalid JSON: String contains lonely Unicode high "
		"surrogate '\\uD83D'") },
	{ "lone low surrogate", "{\"subject\":\"\\ude00\"}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid unicode character U+de00",
		"Invalid JSON: String contains lonely Unicode low "
		"surrogate '\\uDE00'") },
	{ "short unicode escape", "{\"subject\":\"\\u12\"}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid unicode escape seen",
		"Invalid JSON: Invalid digit '\"' in Unicode escape "
		"sequence") },
	{ "bad hex digit", "{\"subject\":\"\\u12g4\"}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid unicode escape seen",
		"Invalid JSON: Invalid digit 'g' in Unicode escape "
		"sequence") },
	{ "unknown escape", "{\"subject\":\"\\x41\"}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid escape string",
		"Invalid JSON: Invalid escape sequence '\\' + 'x'") },
	{ "unknown escape in an unknown value", "{\"x\":[\"\\a\"]}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid escape string",
		"Invalid JSON: Invalid escape sequence '\\' + 'a'") },
	{ "bad literal", "{\"x\":tru}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid data as value",
		"Invalid JSON: Expected value 'true', but encounted 'tru'") },
	{ "capital literal", "{\"x\":True}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid data as value",
		"Invalid JSON: Expected value, but encountered 'T'") },
	{ "bad number", "{\"x\":1.}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid data as value",
		"Invalid JSON: Expected digit in number fraction") },
	{ "bad exponent", "{\"x\":1e+}",
	  TEST_LIB_ERROR(
		"Invalid JSON: Invalid data as value",
		"Invalid JSON: Expected digit in number exponent") },
	{ "unterminated string", "{\"subject\":\"abc",
	  TEST_LIB_ERROR(
		"Invalid JSON: Unexpected end of the value",
		"Invalid JSON: Encountered end of input inside string") },
	{ "unterminated object", "{\"subject\":\"abc\"",
	  TEST_LIB_ERROR(
		"Invalid JSON: Missing '}'",
		"Invalid JSON: Encountered end of input inside object") },
	{ "unterminated array", "{\"to\":[\"a@b\"",
	  TEST_LIB_ERROR(
		"Invalid JSON: Missing '}'",
		"Invalid JSON: Encountered end of input inside array") },
	/* hostile values of the right syntax */
	{ "huge number as since",
	  "{\"since\":" TEST_DIGITS_1000 "}", "\"since\" is out of range" },
	{ "duplicate key with another type",
	  "{\"since\":1,\"since\":{\"a\":[1]}}", "Duplicate key \"since\"" },
	{ "duplicate unknown key is fine, a known one is not",
	  "{\"x\":1,\"x\":2,\"reason\":\"retry\",\"reason\":\"retry\"}",
	  "Duplicate key \"reason\"" },
	{ "deep nesting in an object", "{\"x\":{\"y\":" TEST_NEST_20 "}}",
	  "Nested more than 16 levels deep" },
	{ "the first error counts", "{\"to\":[" TEST_NEST_20 "]}",
	  "\"to\" has an item that is not a string" },
};

static void test_from_json_accept(void **state ATTR_UNUSED)
{
	struct readreceipt_pending parsed;
	const char *error;
	unsigned int i;
	pool_t pool;

	pool = pool_alloconly_create("test pending", 1024);
	for (i = 0; i < N_ELEMENTS(accept_cases); i++) {
		const char *name = accept_cases[i].name;

		/* the validator agrees */
		if (!test_json_valid(accept_cases[i].json))
			fail_msg("case \"%s\": not valid JSON", name);
		error = NULL;
		if (readreceipt_pending_from_json(pool, accept_cases[i].json,
						  &parsed, &error) < 0)
			fail_msg("case \"%s\": rejected: %s", name, error);
		test_check_str(name, "to", accept_cases[i].to,
			       test_join_to(&parsed));
		test_check_str(name, "subject", accept_cases[i].subject,
			       parsed.subject);
		test_check_str(name, "message_id", accept_cases[i].message_id,
			       parsed.message_id);
		test_check_str(name, "reason", accept_cases[i].reason,
			       parsed.reason);
		if (parsed.since != accept_cases[i].since) {
			fail_msg("case \"%s\": since %lld", name,
				 (long long)parsed.since);
		}
		p_clear(pool);
	}
	pool_unref(&pool);
}

static void test_from_json_reject(void **state ATTR_UNUSED)
{
	struct readreceipt_pending parsed;
	const char *error;
	unsigned int i;
	pool_t pool;
	int ret;

	pool = pool_alloconly_create("test pending", 1024);
	for (i = 0; i < N_ELEMENTS(reject_cases); i++) {
		const char *name = reject_cases[i].name;

		error = NULL;
		ret = readreceipt_pending_from_json(pool, reject_cases[i].json,
						    &parsed, &error);
		if (ret != -1)
			fail_msg("case \"%s\": accepted", name);
		if (error == NULL ||
		    strstr(error, reject_cases[i].error) == NULL) {
			fail_msg("case \"%s\": error \"%s\", expected \"%s\"",
				 name, test_printable(error),
				 reject_cases[i].error);
		}
		p_clear(pool);
	}
	pool_unref(&pool);
}

/* Where 2.3's json-parser is more lenient than RFC 8259: raw control
   characters inside a string are taken as they are. They are data like
   their escaped forms, which give the same value. 2.4's lib-json follows
   RFC 8259 and refuses them; the writer never writes them raw. */
static void test_from_json_raw_controls(void **state ATTR_UNUSED)
{
	static const char *json =
		"{\"to\":[\"a@example.com\"],"
		"\"subject\":\"a\nb\tc\x01\",\"message_id\":\"\","
		"\"reason\":\"prompt\",\"since\":1}";
	struct readreceipt_pending parsed;
	const char *error;
	pool_t pool;

	pool = pool_alloconly_create("test pending", 1024);
#if DOVECOT_PREREQ(2, 4, 0)
	assert_int_equal(readreceipt_pending_from_json(pool, json, &parsed,
						       &error), -1);
	assert_string_equal(error, "Invalid JSON: String contains invalid "
			    "character <LF>");
#else
	if (readreceipt_pending_from_json(pool, json, &parsed, &error) < 0)
		fail_msg("rejected: %s", error);
	assert_string_equal(parsed.subject, "a\nb\tc\x01");
	/* and written back escaped */
	assert_non_null(strstr(test_to_json(&parsed),
			       "\"subject\":\"a\\nb\\tc\\u0001\""));
#endif
	pool_unref(&pool);
}

/* Every proper prefix of a valid entry is refused. */
static void test_from_json_truncated(void **state ATTR_UNUSED)
{
	struct readreceipt_pending *pending, parsed;
	const char *json, *error;
	size_t len;
	pool_t pool;

	pending = test_pending("a@example.com b@example.com",
			       "caf\xC3\xA9 \"\\\r\n\xF0\x9F\x98\x80", "<m@x>",
			       READRECEIPT_PENDING_REASON_RETRY, 1700000000);
	json = test_to_json(pending);
	pool = pool_alloconly_create("test pending", 1024);
	for (len = 0; len < strlen(json); len++) T_BEGIN {
		const char *prefix = t_strndup(json, len);

		error = NULL;
		if (readreceipt_pending_from_json(pool, prefix, &parsed,
						  &error) != -1)
			fail_msg("prefix of %zu bytes accepted", len);
		if (error == NULL || error[0] == '\0')
			fail_msg("prefix of %zu bytes: no error", len);
		p_clear(pool);
	} T_END;
	assert_int_equal(readreceipt_pending_from_json(pool, json, &parsed,
						       &error), 0);
	pool_unref(&pool);
}

/* An entry of exactly READRECEIPT_PENDING_JSON_MAX bytes is read, one
   byte more is not. */
static void test_from_json_size(void **state ATTR_UNUSED)
{
	static const char *head = "{\"to\":[\"a@example.com\"],"
		"\"subject\":\"\",\"message_id\":\"\",\"reason\":\"prompt\","
		"\"since\":1,\"pad\":\"";
	struct readreceipt_pending parsed;
	const char *error;
	string_t *json;
	pool_t pool;

	json = t_str_new(READRECEIPT_PENDING_JSON_MAX + 2);
	str_append(json, head);
	while (str_len(json) < READRECEIPT_PENDING_JSON_MAX - 2)
		str_append_c(json, 'x');
	str_append(json, "\"}");
	assert_int_equal(str_len(json), READRECEIPT_PENDING_JSON_MAX);

	pool = pool_alloconly_create("test pending", 1024);
	error = NULL;
	if (readreceipt_pending_from_json(pool, str_c(json), &parsed,
					  &error) < 0)
		fail_msg("at the limit: rejected: %s", error);

	str_insert(json, 0, " ");
	assert_int_equal(readreceipt_pending_from_json(pool, str_c(json),
						       &parsed, &error), -1);
	assert_string_equal(error, t_strdup_printf(
		"Value too large (%u bytes, at most %u)",
		READRECEIPT_PENDING_JSON_MAX + 1,
		READRECEIPT_PENDING_JSON_MAX));
	pool_unref(&pool);
}

/* An unknown value may nest 16 levels deep, the root object included;
   deeper is refused (the parser does not recurse, but nothing of ours
   nests that deep). */
static void test_from_json_depth(void **state ATTR_UNUSED)
{
	static const char *rest = "\"to\":[\"a@example.com\"],"
		"\"subject\":\"\",\"message_id\":\"\","
		"\"reason\":\"prompt\",\"since\":1}";
	static const unsigned int levels[] = { 2, 3, 15, 16, 17, 18, 5000 };
	struct readreceipt_pending parsed;
	const char *error;
	unsigned int i, j;
	string_t *json;
	pool_t pool;
	int ret;

	pool = pool_alloconly_create("test pending", 1024);
	for (i = 0; i < N_ELEMENTS(levels); i++) T_BEGIN {
		/* the root, levels - 2 arrays and one object */
		json = t_str_new(256);
		str_append(json, "{\"x\":");
		for (j = 2; j < levels[i]; j++)
			str_append_c(json, '[');
		str_append(json, "{}");
		for (j = 2; j < levels[i]; j++)
			str_append_c(json, ']');
		str_append_c(json, ',');
		str_append(json, rest);
		if (!test_json_valid(str_c(json)))
			fail_msg("%u levels: invalid test JSON", levels[i]);

		error = NULL;
		ret = readreceipt_pending_from_json(pool, str_c(json),
						    &parsed, &error);
		if (levels[i] <= 16) {
			if (ret != 0) {
				fail_msg("%u levels: rejected: %s",
					 levels[i], error);
			}
		} else {
			if (ret != -1)
				fail_msg("%u levels: accepted", levels[i]);
			assert_non_null(strstr(error,
				"Nested more than 16 levels deep"));
		}
		p_clear(pool);
	} T_END;
	pool_unref(&pool);
}

/* The strings outlive the data stack frame: they come from the pool. */
static void test_from_json_pool(void **state ATTR_UNUSED)
{
	struct readreceipt_pending parsed;
	const char *error;
	pool_t pool;
	int ret;

	pool = pool_alloconly_create("test pending", 64);
	T_BEGIN {
		ret = readreceipt_pending_from_json(pool,
			"{\"to\":[\"a@example.com\",\"b@example.com\"],"
			"\"subject\":\"s\\u00e9\",\"message_id\":\"<m>\","
			"\"reason\":\"rate_limited\",\"since\":77}",
			&parsed, &error);
	} T_END;
	assert_int_equal(ret, 0);
	/* overwrite what the frame had */
	T_BEGIN {
		memset(t_malloc0(4096), 'z', 4096);
	} T_END;
	assert_int_equal(array_count(&parsed.to), 2);
	assert_string_equal(array_idx_elem(&parsed.to, 0), "a@example.com");
	assert_string_equal(array_idx_elem(&parsed.to, 1), "b@example.com");
	assert_string_equal(parsed.subject, "s\xC3\xA9");
	assert_string_equal(parsed.message_id, "<m>");
	assert_string_equal(parsed.reason,
			    READRECEIPT_PENDING_REASON_RATE_LIMITED);
	assert_int_equal(parsed.since, 77);
	pool_unref(&pool);

	/* and the error outlives the parser's frame */
	pool = pool_alloconly_create("test pending", 64);
	T_BEGIN {
		ret = readreceipt_pending_from_json(pool, "{\"since\":-5}",
						    &parsed, &error);
		assert_int_equal(ret, -1);
		memset(t_malloc0(4096), 'z', 4096);
		assert_string_equal(error, "\"since\" is negative");
	} T_END;
	pool_unref(&pool);
}

/*
 * Answers
 */

static const struct {
	const char *value;
	int ret;
	enum readreceipt_answer answer;
} answer_cases[] = {
	{ NULL, 0, READRECEIPT_ANSWER_IGNORE },
	{ "ignore", 0, READRECEIPT_ANSWER_IGNORE },
	{ "IGNORE", 0, READRECEIPT_ANSWER_IGNORE },
	{ "iGnOrE", 0, READRECEIPT_ANSWER_IGNORE },
	{ "send", 0, READRECEIPT_ANSWER_SEND },
	{ "SEND", 0, READRECEIPT_ANSWER_SEND },
	{ "Send", 0, READRECEIPT_ANSWER_SEND },
	{ "", -1, 0 },
	{ " send", -1, 0 },
	{ "send ", -1, 0 },
	{ "send\r\n", -1, 0 },
	{ "sendx", -1, 0 },
	{ "sen", -1, 0 },
	{ "ignored", -1, 0 },
	{ "yes", -1, 0 },
	{ "no", -1, 0 },
	{ "NIL", -1, 0 },
	{ "nil", -1, 0 },
	{ "\"send\"", -1, 0 },
	{ "send,ignore", -1, 0 },
	{ "s\xC3\xA9nd", -1, 0 },
};

static void test_answer_parse(void **state ATTR_UNUSED)
{
	enum readreceipt_answer answer;
	const char *error;
	unsigned int i;
	int ret;

	for (i = 0; i < N_ELEMENTS(answer_cases); i++) {
		const char *name = test_printable(answer_cases[i].value);

		answer = 0;
		error = NULL;
		ret = readreceipt_answer_parse(answer_cases[i].value,
					       &answer, &error);
		if (ret != answer_cases[i].ret) {
			fail_msg("answer \"%s\": returned %d, error %s",
				 name, ret, test_printable(error));
		}
		if (ret == 0) {
			assert_int_equal(answer, answer_cases[i].answer);
			continue;
		}
		if (error == NULL ||
		    strstr(error, "expected \"send\", \"ignore\" or NIL") ==
		    NULL)
			fail_msg("answer \"%s\": error %s", name,
				 test_printable(error));
	}
}

static void test_answer_error(void **state ATTR_UNUSED)
{
	enum readreceipt_answer answer;
	const char *error, *p;
	string_t *value;

	assert_int_equal(readreceipt_answer_parse("yes", &answer, &error),
			 -1);
	assert_string_equal(error,
		"Invalid value \"yes\" for a pending read receipt: "
		"expected \"send\", \"ignore\" or NIL");

	/* the client's value goes back to it in a NO: no CR/LF or other
	   control characters, and not all of a long value */
	assert_int_equal(readreceipt_answer_parse("a\r\nb\x01", &answer,
						  &error), -1);
	assert_string_equal(error,
		"Invalid value \"a??b?\" for a pending read receipt: "
		"expected \"send\", \"ignore\" or NIL");

	value = t_str_new(1024);
	while (str_len(value) < 1000)
		str_append(value, "sendsend");
	assert_int_equal(readreceipt_answer_parse(str_c(value), &answer,
						  &error), -1);
	assert_true(strlen(error) < 200);
	for (p = error; *p != '\0'; p++)
		assert_true((unsigned char)*p >= 0x20);
}

/*
 * Keys
 */

static const struct {
	uint32_t uid;
	const char *key;
} key_cases[] = {
	{ 1, "vendor/vendor.readreceipt/pending/1" },
	{ 42, "vendor/vendor.readreceipt/pending/42" },
	{ 1000000, "vendor/vendor.readreceipt/pending/1000000" },
	{ 4294967295U, "vendor/vendor.readreceipt/pending/4294967295" },
};

static void test_key(void **state ATTR_UNUSED)
{
	unsigned int i;
	uint32_t uid;

	assert_string_equal(READRECEIPT_PENDING_ENTRY_PREFIX,
			    "/private/vendor/vendor.readreceipt/pending");
	for (i = 0; i < N_ELEMENTS(key_cases); i++) {
		test_check_str(key_cases[i].key, "key", key_cases[i].key,
			       readreceipt_pending_key(key_cases[i].uid));
		uid = 0;
		if (!readreceipt_pending_key_parse(key_cases[i].key, &uid))
			fail_msg("key \"%s\" refused", key_cases[i].key);
		assert_int_equal(uid, key_cases[i].uid);
	}
}

static const struct {
	const char *key;
	/* 0 when it is not an entry */
	uint32_t uid;
} key_parse_cases[] = {
	{ "vendor/vendor.readreceipt/pending/7", 7 },
	{ "VENDOR/Vendor.ReadReceipt/PENDING/7", 7 },
	{ "vendor/vendor.readreceipt/pending/10", 10 },
	{ "vendor/vendor.readreceipt/pending/4294967295", 4294967295U },

	{ "", 0 },
	{ "vendor/vendor.readreceipt/pending", 0 },
	{ "vendor/vendor.readreceipt/pending/", 0 },
	{ "vendor/vendor.readreceipt/pending/0", 0 },
	{ "vendor/vendor.readreceipt/pending/00", 0 },
	{ "vendor/vendor.readreceipt/pending/01", 0 },
	{ "vendor/vendor.readreceipt/pending/4294967296", 0 },
	{ "vendor/vendor.readreceipt/pending/99999999999999999999", 0 },
	{ "vendor/vendor.readreceipt/pending/-1", 0 },
	{ "vendor/vendor.readreceipt/pending/+1", 0 },
	{ "vendor/vendor.readreceipt/pending/ 1", 0 },
	{ "vendor/vendor.readreceipt/pending/1 ", 0 },
	{ "vendor/vendor.readreceipt/pending/1a", 0 },
	{ "vendor/vendor.readreceipt/pending/0x1", 0 },
	{ "vendor/vendor.readreceipt/pending/1/", 0 },
	{ "vendor/vendor.readreceipt/pending/1/2", 0 },
	{ "vendor/vendor.readreceipt/pending/abc", 0 },
	{ "vendor/vendor.readreceipt/pending/../pending/1", 0 },
	{ "vendor/vendor.readreceipt/pending/1/x", 0 },
	{ "vendor/vendor.readreceipt/pending//1", 0 },
	{ "vendor/vendor.readreceipt/pending1", 0 },
	{ "vendor/vendor.readreceipt/pendingx/1", 0 },
	{ "vendor/vendor.readreceipt/1", 0 },
	{ "/private/vendor/vendor.readreceipt/pending/1", 0 },
	{ "/vendor/vendor.readreceipt/pending/1", 0 },
	{ "vendor/vendor.readreceipt/other/1", 0 },
};

static void test_key_parse(void **state ATTR_UNUSED)
{
	unsigned int i;
	uint32_t uid;
	bool ret;

	for (i = 0; i < N_ELEMENTS(key_parse_cases); i++) {
		uid = 0;
		ret = readreceipt_pending_key_parse(key_parse_cases[i].key,
						    &uid);
		if (ret != (key_parse_cases[i].uid != 0)) {
			fail_msg("key \"%s\": %s", key_parse_cases[i].key,
				 ret ? "accepted" : "refused");
		}
		if (ret && uid != key_parse_cases[i].uid) {
			fail_msg("key \"%s\": uid %u", key_parse_cases[i].key,
				 uid);
		}
	}
}

/* The largest entry the module writes: 100 requested addresses from a
   4 KB request, a subject cut to READRECEIPT_MDN_SUBJECT_MAX bytes and a
   Message-ID cut to 1 KB, all of characters that JSON escapes as \u00XX
   (six bytes each). It must stay readable. */
static void test_largest_entry(void **state ATTR_UNUSED)
{
	struct readreceipt_pending pending, parsed;
	const char *addr, *error;
	string_t *json;
	pool_t pool;
	char *big;
	unsigned int i;

	T_BEGIN {
		i_zero(&pending);
		t_array_init(&pending.to, 100);
		for (i = 0; i < 100; i++) {
			big = t_malloc0(41);
			memset(big, 0x1f, 40);
			addr = t_strconcat(big, "@x", NULL);
			array_push_back(&pending.to, &addr);
		}
		big = t_malloc0(257);
		memset(big, 0x1f, 256);
		pending.subject = big;
		big = t_malloc0(1025);
		memset(big, 0x1f, 1024);
		pending.message_id = big;
		pending.reason = "prompt";
		pending.since = 1700000000;

		json = t_str_new(1024);
		readreceipt_pending_to_json(&pending, json);
		assert_true(str_len(json) < READRECEIPT_PENDING_JSON_MAX);
		pool = pool_alloconly_create("test largest entry", 1024);
		assert_int_equal(readreceipt_pending_from_json(pool,
			str_c(json), &parsed, &error), 0);
		assert_int_equal(array_count(&parsed.to), 100);
		assert_string_equal(parsed.message_id, pending.message_id);
		pool_unref(&pool);
	} T_END;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validator),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_to_json_null_strings),
		cmocka_unit_test(test_hostile_subjects),
		cmocka_unit_test(test_all_short_strings),
		cmocka_unit_test(test_long_subject),
		cmocka_unit_test(test_from_json_accept),
		cmocka_unit_test(test_from_json_reject),
		cmocka_unit_test(test_from_json_raw_controls),
		cmocka_unit_test(test_from_json_truncated),
		cmocka_unit_test(test_from_json_size),
		cmocka_unit_test(test_from_json_depth),
		cmocka_unit_test(test_from_json_pool),
		cmocka_unit_test(test_answer_parse),
		cmocka_unit_test(test_answer_error),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_largest_entry),
	};

	return TEST_RUN("readreceipt-pending", tests);
}
