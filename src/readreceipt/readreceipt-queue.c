/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "mail-storage-private.h"
#include "mailbox-attribute.h"
#include "readreceipt-compat.h"
#include "readreceipt-queue.h"

bool readreceipt_queue_available(struct mail_user *user)
{
	return readreceipt_compat_attribute_dict_enabled(user);
}

static int
readreceipt_queue_write(struct mailbox_transaction_context *t, uint32_t uid,
			const char *value, const char **error_r)
{
	struct mail_attribute_value attr;

	i_zero(&attr);
	attr.value = value;
	if (mailbox_attribute_set(t, MAIL_ATTRIBUTE_TYPE_PRIVATE,
				  readreceipt_pending_key(uid), &attr) < 0) {
		*error_r = mailbox_get_last_internal_error(t->box, NULL);
		return -1;
	}
	return 0;
}

int readreceipt_queue_set(struct mailbox_transaction_context *t, uint32_t uid,
			  const struct readreceipt_pending *pending,
			  const char **error_r)
{
	string_t *json = t_str_new(256);

	readreceipt_pending_to_json(pending, json);
	return readreceipt_queue_write(t, uid, str_c(json), error_r);
}

int readreceipt_queue_unset(struct mailbox_transaction_context *t,
			    uint32_t uid, const char **error_r)
{
	return readreceipt_queue_write(t, uid, NULL, error_r);
}

static int
readreceipt_queue_uid_cmp(const struct readreceipt_pending_entry *e1,
			  const struct readreceipt_pending_entry *e2)
{
	if (e1->uid < e2->uid)
		return -1;
	return e1->uid > e2->uid ? 1 : 0;
}

int readreceipt_queue_list(struct mailbox *box, pool_t pool,
			   ARRAY_TYPE(readreceipt_pending_entry) *entries,
			   const char **error_r)
{
	struct mailbox_attribute_iter *iter;
	struct readreceipt_pending_entry *entry;
	struct readreceipt_pending pending;
	struct mail_attribute_value attr;
	ARRAY_TYPE(uint32_t) uids;
	const char *key, *error;
	uint32_t uid;
	int ret = 0;

	t_array_init(&uids, 16);
	iter = mailbox_attribute_iter_init(box, MAIL_ATTRIBUTE_TYPE_PRIVATE,
					   READRECEIPT_PENDING_KEY_PREFIX "/");
	while ((key = mailbox_attribute_iter_next(iter)) != NULL) {
		const char *full = t_strconcat(READRECEIPT_PENDING_KEY_PREFIX
					       "/", key, NULL);

		if (readreceipt_pending_key_parse(full, &uid))
			array_push_back(&uids, &uid);
	}
	if (mailbox_attribute_iter_deinit(&iter) < 0) {
		*error_r = mailbox_get_last_internal_error(box, NULL);
		return -1;
	}

	array_foreach_elem(&uids, uid) {
		i_zero(&attr);
		if (mailbox_attribute_get(box, MAIL_ATTRIBUTE_TYPE_PRIVATE,
				readreceipt_pending_key(uid), &attr) < 0) {
			*error_r = mailbox_get_last_internal_error(box, NULL);
			ret = -1;
			break;
		}
		/* a damaged value is not an entry */
		if (attr.value == NULL ||
		    readreceipt_pending_from_json(pool, attr.value, &pending,
						  &error) < 0)
			continue;
		entry = array_append_space(entries);
		entry->uid = uid;
		entry->pending = pending;
	}
	array_sort(entries, readreceipt_queue_uid_cmp);
	return ret;
}
