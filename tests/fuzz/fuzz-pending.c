/* Copyright (c) dovecot-readreceipt authors */

/* libFuzzer target: the pending-prompt entry as clients and doveadm may
   set it (readreceipt_pending_from_json()), the answers to it
   (readreceipt_answer_parse()) and the entry names
   (readreceipt_pending_key_parse()).

   The input is the JSON value (it ends at its first NUL, as the METADATA
   value does). An entry that parses is written again with
   readreceipt_pending_to_json(); unless that is too large to be read,
   it must parse to the same entry, and writing it again must give the
   same text. A key that parses must be
   the one readreceipt_pending_key() makes for its UID. */

#include "fuzz-common.h"
#include "array.h"
#include "str.h"
#include "readreceipt-pending.h"

int LLVMFuzzerInitialize(int *argc ATTR_UNUSED, char ***argv ATTR_UNUSED)
{
	fuzz_init();
	return 0;
}

static void fuzz_check_entry(const struct readreceipt_pending *pending)
{
	const char *addr;

	i_assert(array_count(&pending->to) > 0);
	array_foreach_elem(&pending->to, addr)
		i_assert(addr != NULL && addr[0] != '\0');
	i_assert(pending->subject != NULL);
	i_assert(pending->message_id != NULL);
	i_assert(pending->reason != NULL);
	i_assert(pending->since >= 0);
}

static void
fuzz_same_entry(const struct readreceipt_pending *p1,
		const struct readreceipt_pending *p2)
{
	const char *const *to1, *const *to2;
	unsigned int i, count1, count2;

	to1 = array_get(&p1->to, &count1);
	to2 = array_get(&p2->to, &count2);
	i_assert(count1 == count2);
	for (i = 0; i < count1; i++)
		i_assert(strcmp(to1[i], to2[i]) == 0);
	i_assert(strcmp(p1->subject, p2->subject) == 0);
	i_assert(strcmp(p1->message_id, p2->message_id) == 0);
	i_assert(strcmp(p1->reason, p2->reason) == 0);
	i_assert(p1->since == p2->since);
}

static void fuzz_json(pool_t pool, const char *json)
{
	struct readreceipt_pending pending, again;
	string_t *out, *out_again;
	const char *error = NULL;

	if (readreceipt_pending_from_json(pool, json, &pending, &error) < 0) {
		i_assert(error != NULL);
		return;
	}
	fuzz_check_entry(&pending);

	out = t_str_new(256);
	readreceipt_pending_to_json(&pending, out);
	if (str_len(out) > READRECEIPT_PENDING_JSON_MAX) {
		/* escaping can make the value up to six times as long; the
		   writer does not cut, its callers keep what they write
		   under the limit */
		return;
	}
	if (readreceipt_pending_from_json(pool, str_c(out), &again,
					  &error) < 0) {
		i_panic("the entry written again does not parse: %s: %s",
			error, str_c(out));
	}
	fuzz_same_entry(&pending, &again);

	out_again = t_str_new(str_len(out) + 1);
	readreceipt_pending_to_json(&again, out_again);
	i_assert(str_equals(out, out_again));
}

static void fuzz_answer(const char *value)
{
	enum readreceipt_answer answer;
	const char *error = NULL;

	if (readreceipt_answer_parse(value, &answer, &error) == 0) {
		i_assert(answer == READRECEIPT_ANSWER_SEND ||
			 answer == READRECEIPT_ANSWER_IGNORE);
	} else {
		i_assert(error != NULL);
	}
}

static void fuzz_key(const char *key)
{
	uint32_t uid;

	if (!readreceipt_pending_key_parse(key, &uid))
		return;
	/* one message, one key (names compare case-insensitively) */
	i_assert(uid != 0);
	i_assert(strcasecmp(readreceipt_pending_key(uid), key) == 0);
}

static void fuzz_pending_input(const uint8_t *data, size_t size)
{
	pool_t pool;
	char *value;

	value = fuzz_strndup(data, size);
	pool = pool_alloconly_create("fuzz pending", 1024);
	fuzz_json(pool, value);
	pool_unref(&pool);

	fuzz_answer(value);
	fuzz_key(value);
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	T_BEGIN {
		fuzz_pending_input(data, size);
	} T_END;
	return 0;
}
