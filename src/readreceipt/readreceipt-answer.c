/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "mail-storage-private.h"
#include "mailbox-attribute.h"
#include "readreceipt-pending.h"
#include "readreceipt-user.h"
#include "readreceipt-storage.h"
#include "readreceipt-answer.h"

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

	/* The registry is process-wide: users without the module, and the
	   module's own writes of the JSON value, pass untouched. */
	if (ruser == NULL || ruser->busy ||
	    !readreceipt_pending_key_parse(key, &uid))
		return 0;

	if (value->value == NULL && value->value_stream == NULL)
		str = NULL;
	else if (mailbox_attribute_value_to_string(box->storage, value,
						   &str) < 0)
		return -1;
	if (readreceipt_answer_parse(str, &answer, &error) < 0) {
		mail_storage_set_error(box->storage, MAIL_ERROR_PARAMS, error);
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
	.key = READRECEIPT_PENDING_KEY_PREFIX,
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
