/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "mail-storage-private.h"
#include "mailbox-attribute.h"
#include "readreceipt-pending.h"
#include "readreceipt-record.h"
#include "readreceipt-outbox.h"
#include "readreceipt-user.h"
#include "readreceipt-storage.h"
#include "readreceipt-answer.h"

/* TRUE if key is the module's own namespace or under it (the registry
   also hands over keys that merely start with the same letters). */
static bool readreceipt_answer_key_is_ours(const char *key)
{
	size_t len = strlen(READRECEIPT_ATTRIBUTE_KEY_PREFIX);

	return strncmp(key, READRECEIPT_ATTRIBUTE_KEY_PREFIX, len) == 0 &&
		(key[len] == '\0' || key[len] == '/');
}

/* TRUE if uid is a message of the transaction's mailbox that waits for
   an answer. The transaction's view is tried first; an entry queued by
   another session since this one last synced is in the latest index. */
static bool
readreceipt_answer_uid_pending(struct mailbox_transaction_context *t,
			       uint32_t uid)
{
	struct readreceipt_record rec;
	uint32_t seq;

	if (mail_index_lookup_seq(t->view, uid, &seq)) {
		readreceipt_outbox_get(t, seq, &rec);
		if ((rec.flags & READRECEIPT_RECORD_FLAG_PENDING) != 0)
			return TRUE;
	}
	return readreceipt_outbox_get_fresh(t->box, uid, &rec) > 0 &&
		(rec.flags & READRECEIPT_RECORD_FLAG_PENDING) != 0;
}

/* SPEC §13: under the module's namespace a client sets nothing but an
   answer to an entry that exists. Each call costs a UID lookup and one
   record read: a command with N entries costs O(N). */
static int
readreceipt_answer_set(struct mailbox_transaction_context *t, const char *key,
		       const struct mail_attribute_value *value)
{
	struct mailbox *box = t->box;
	struct readreceipt_user *ruser =
		readreceipt_user_get(box->storage->user);
	enum readreceipt_answer answer;
	const char *str, *error;
	uint32_t uid;

	/* The registry is process-wide: users without the module, the
	   module's own writes of the JSON value, and other vendors' keys
	   pass untouched. */
	if (ruser == NULL || ruser->busy ||
	    !readreceipt_answer_key_is_ours(key))
		return 0;

	if (!readreceipt_pending_key_parse(key, &uid)) {
		mail_storage_set_error(box->storage, MAIL_ERROR_PARAMS,
			"Only pending/<uid> entries can be set under "
			"/private/"READRECEIPT_ATTRIBUTE_KEY_PREFIX);
		return -1;
	}
	if (value->value == NULL && value->value_stream == NULL)
		str = NULL;
	else if (mailbox_attribute_value_to_string(box->storage, value,
						   &str) < 0)
		return -1;
	if (readreceipt_answer_parse(str, &answer, &error) < 0) {
		mail_storage_set_error(box->storage, MAIL_ERROR_PARAMS, error);
		return -1;
	}
	if (!readreceipt_answer_uid_pending(t, uid)) {
		mail_storage_set_error(box->storage, MAIL_ERROR_PARAMS,
			t_strdup_printf("No read receipt waits for an answer "
					"for UID %u", uid));
		return -1;
	}
	if (!readreceipt_storage_add_answer(t, uid, answer)) {
		mail_storage_set_error(box->storage, MAIL_ERROR_NOTPOSSIBLE,
			"Read receipts cannot be answered in this mailbox");
		return -1;
	}
	return 0;
}

static const struct mailbox_attribute_internal readreceipt_answer_iattr = {
	.type = MAIL_ATTRIBUTE_TYPE_PRIVATE,
	.key = READRECEIPT_ATTRIBUTE_KEY_PREFIX,
	/* the value is stored as usual; set() validates and notes it */
	.rank = MAIL_ATTRIBUTE_INTERNAL_RANK_DEFAULT,
	.flags = MAIL_ATTRIBUTE_INTERNAL_FLAG_CHILDREN,
	.set = readreceipt_answer_set,
};

void readreceipt_answer_init(void)
{
	mailbox_attribute_register_internal(&readreceipt_answer_iattr);
}

void readreceipt_answer_deinit(void)
{
	mailbox_attribute_unregister_internal(&readreceipt_answer_iattr);
}
