/* Copyright (c) dovecot-readreceipt authors */

#include "test-common.h"
#include "readreceipt-record.h"

#define TEST_NOW 1700000000
#define TEST_TIMEOUT 5

static const guid_128_t test_guid = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
};

static void test_record_layout(void **state ATTR_UNUSED)
{
	/* the index extension's record size is part of the on-disk
	   format: changing it needs a new extension name */
	assert_int_equal(sizeof(struct readreceipt_record), 8);
}

static const struct {
	const char *name;
	struct readreceipt_record rec;
	bool owed, claimable;
	const char *reason;
} record_cases[] = {
	{ "none", { READRECEIPT_RECORD_NONE, 0, 0, 0, 0 },
	  FALSE, FALSE, "owed" },
	{ "prompt only", { READRECEIPT_RECORD_NONE,
	  READRECEIPT_RECORD_FLAG_PENDING, 0, 0, TEST_NOW },
	  FALSE, FALSE, "owed" },
	{ "owed, new", { READRECEIPT_RECORD_OWED, 0, 0,
	  READRECEIPT_RECORD_WAIT_NEW, TEST_NOW }, TRUE, TRUE, "owed" },
	{ "owed, retry", { READRECEIPT_RECORD_OWED, 0, 0,
	  READRECEIPT_RECORD_WAIT_RETRY, TEST_NOW }, TRUE, TRUE, "retry" },
	{ "owed, rate limited", { READRECEIPT_RECORD_OWED,
	  READRECEIPT_RECORD_FLAG_MANUAL, 0,
	  READRECEIPT_RECORD_WAIT_RATE_LIMITED, TEST_NOW },
	  TRUE, TRUE, "rate_limited" },
	{ "sending, fresh claim", { READRECEIPT_RECORD_SENDING, 0, 0, 0,
	  TEST_NOW - 1 }, TRUE, FALSE, "sending" },
	{ "sending, at the edge of the timeout", {
	  READRECEIPT_RECORD_SENDING, 0, 0, 0,
	  TEST_NOW - TEST_TIMEOUT - READRECEIPT_RECORD_CLAIM_STALE_EXTRA_SECS },
	  TRUE, FALSE, "sending" },
	{ "sending, stale claim of a dead process", {
	  READRECEIPT_RECORD_SENDING, 0, 0, 0,
	  TEST_NOW - TEST_TIMEOUT - READRECEIPT_RECORD_CLAIM_STALE_EXTRA_SECS
	  - 1 }, TRUE, TRUE, "retry" },
	{ "sending, stale claim after a retry", {
	  READRECEIPT_RECORD_SENDING, 0, 0, READRECEIPT_RECORD_WAIT_RETRY,
	  0 }, TRUE, TRUE, "retry" },
	{ "done", { READRECEIPT_RECORD_DONE, 0, 0, 0, TEST_NOW },
	  FALSE, FALSE, "owed" },
	{ "done long ago", { READRECEIPT_RECORD_DONE, 0, 0, 0, 0 },
	  FALSE, FALSE, "owed" },
};

static void test_record_states(void **state ATTR_UNUSED)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(record_cases); i++) {
		const struct readreceipt_record *rec = &record_cases[i].rec;
		const char *reason;

		if (readreceipt_record_is_owed(rec) != record_cases[i].owed)
			fail_msg("case \"%s\": owed", record_cases[i].name);
		if (readreceipt_record_claimable(rec, TEST_NOW, TEST_TIMEOUT) !=
		    record_cases[i].claimable)
			fail_msg("case \"%s\": claimable", record_cases[i].name);
		if (!record_cases[i].owed)
			continue;
		reason = readreceipt_record_wait_reason(rec, TEST_NOW,
							TEST_TIMEOUT);
		if (strcmp(reason, record_cases[i].reason) != 0) {
			fail_msg("case \"%s\": reason %s, expected %s",
				 record_cases[i].name, reason,
				 record_cases[i].reason);
		}
	}
}

static void test_record_claimed_at(void **state ATTR_UNUSED)
{
	const struct readreceipt_record claim = {
		READRECEIPT_RECORD_SENDING, 0, 0, 0, TEST_NOW };
	struct readreceipt_record rec;

	/* the claim taken at TEST_NOW, fresh or long stale: still that one */
	assert_true(readreceipt_record_claimed_at(&claim, TEST_NOW));
	/* another stamp: another claim (a takeover is always later) */
	assert_false(readreceipt_record_claimed_at(&claim, TEST_NOW - 1));
	assert_false(readreceipt_record_claimed_at(&claim, TEST_NOW + 41));
	/* owed again, or finished, with the same stamp: no claim at all */
	rec = claim;
	rec.state = READRECEIPT_RECORD_OWED;
	assert_false(readreceipt_record_claimed_at(&rec, TEST_NOW));
	rec.state = READRECEIPT_RECORD_DONE;
	assert_false(readreceipt_record_claimed_at(&rec, TEST_NOW));
	rec.state = READRECEIPT_RECORD_NONE;
	assert_false(readreceipt_record_claimed_at(&rec, TEST_NOW));
	/* a stamp beyond 32 bits never matches a stored one */
	assert_false(readreceipt_record_claimed_at(&claim,
		(time_t)TEST_NOW + ((time_t)1 << 32)));
}

static void test_record_message_id(void **state ATTR_UNUSED)
{
	const char *id1, *id2;
	guid_128_t other;

	id1 = readreceipt_record_message_id(test_guid, 1234, 7,
					    "john@Example.ORG", "mx.test");
	assert_string_equal(id1, "<readreceipt."
		"00112233445566778899aabbccddeeff.1234.7@Example.ORG>");
	/* every try for the same message: the same id */
	id2 = readreceipt_record_message_id(test_guid, 1234, 7,
					    "john@Example.ORG", "mx.test");
	assert_string_equal(id1, id2);
	/* each of mailbox, UIDVALIDITY and UID tells messages apart */
	assert_string_not_equal(id1, readreceipt_record_message_id(test_guid,
		1234, 8, "john@Example.ORG", "mx.test"));
	assert_string_not_equal(id1, readreceipt_record_message_id(test_guid,
		1235, 7, "john@Example.ORG", "mx.test"));
	memcpy(other, test_guid, sizeof(other));
	other[15] ^= 1;
	assert_string_not_equal(id1, readreceipt_record_message_id(other,
		1234, 7, "john@Example.ORG", "mx.test"));
	/* no domain to take: the host name */
	assert_string_equal(readreceipt_record_message_id(test_guid, 1, 2,
		NULL, "mx.test"),
		"<readreceipt.00112233445566778899aabbccddeeff.1.2@mx.test>");
	assert_string_equal(readreceipt_record_message_id(test_guid, 1, 2,
		"john@", "mx.test"),
		"<readreceipt.00112233445566778899aabbccddeeff.1.2@mx.test>");
	/* the largest numbers fit */
	assert_string_equal(readreceipt_record_message_id(test_guid,
		4294967295U, 4294967295U, "a@b.c", "mx.test"),
		"<readreceipt.00112233445566778899aabbccddeeff."
		"4294967295.4294967295@b.c>");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_layout),
		cmocka_unit_test(test_record_states),
		cmocka_unit_test(test_record_claimed_at),
		cmocka_unit_test(test_record_message_id),
	};

	return TEST_RUN("readreceipt-record", tests);
}
