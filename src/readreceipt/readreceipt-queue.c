/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "mail-storage-private.h"
#include "mail-storage-settings.h"
#include "mailbox-attribute.h"
#include "readreceipt-settings.h"
#include "readreceipt-user.h"
#include "readreceipt-process.h"
#include "readreceipt-queue.h"

bool readreceipt_queue_available(struct mail_user *user)
{
	const struct mail_storage_settings *mail_set =
		mail_user_set_get_storage_set(user);

	return mail_set->mail_attribute_dict != NULL &&
		mail_set->mail_attribute_dict[0] != '\0';
}

static int
readreceipt_queue_write(struct mailbox *box, uint32_t uid, const char *value,
			const char **error_r)
{
	struct readreceipt_user *ruser =
		readreceipt_user_get(box->storage->user);
	struct mailbox_transaction_context *t;
	struct mail_attribute_value attr;
	bool prev_busy = FALSE;
	int ret;

	/* the module's own writes are not answers */
	if (ruser != NULL) {
		prev_busy = ruser->busy;
		ruser->busy = TRUE;
	}
	i_zero(&attr);
	attr.value = value;
	t = mailbox_transaction_begin(box, MAILBOX_TRANSACTION_FLAG_EXTERNAL,
				      "readreceipt pending");
	ret = mailbox_attribute_set(t, MAIL_ATTRIBUTE_TYPE_PRIVATE,
				    readreceipt_pending_key(uid), &attr);
	if (ret < 0) {
		*error_r = mailbox_get_last_internal_error(box, NULL);
		mailbox_transaction_rollback(&t);
	} else if ((ret = mailbox_transaction_commit(&t)) < 0) {
		*error_r = mailbox_get_last_internal_error(box, NULL);
	}
	if (ruser != NULL)
		ruser->busy = prev_busy;
	return ret;
}

int readreceipt_queue_add(struct mailbox *box, uint32_t uid,
			  const struct readreceipt_pending *pending,
			  const char **error_r)
{
	string_t *json = t_str_new(256);

	readreceipt_pending_to_json(pending, json);
	return readreceipt_queue_write(box, uid, str_c(json), error_r);
}

int readreceipt_queue_remove(struct mailbox *box, uint32_t uid,
			     const char **error_r)
{
	return readreceipt_queue_write(box, uid, NULL, error_r);
}

static int
readreceipt_queue_get(struct mailbox *box, uint32_t uid, pool_t pool,
		      struct readreceipt_pending *pending_r, bool *found_r,
		      const char **error_r)
{
	struct mail_attribute_value attr;
	const char *error;
	int ret;

	*found_r = FALSE;
	i_zero(&attr);
	ret = mailbox_attribute_get(box, MAIL_ATTRIBUTE_TYPE_PRIVATE,
				    readreceipt_pending_key(uid), &attr);
	if (ret < 0) {
		*error_r = mailbox_get_last_internal_error(box, NULL);
		return -1;
	}
	if (ret == 0 || attr.value == NULL)
		return 0;
	if (readreceipt_pending_from_json(pool, attr.value, pending_r,
					  &error) < 0) {
		/* an answer that was not acted on yet, or a damaged
		   value: not an entry to retry */
		return 0;
	}
	*found_r = TRUE;
	return 0;
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
	ARRAY_TYPE(uint32_t) uids;
	const char *key;
	uint32_t uid;
	bool found;
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
		struct readreceipt_pending pending;

		if (readreceipt_queue_get(box, uid, pool, &pending, &found,
					  error_r) < 0) {
			ret = -1;
			break;
		}
		if (!found)
			continue;
		entry = array_append_space(entries);
		entry->uid = uid;
		entry->pending = pending;
	}
	array_sort(entries, readreceipt_queue_uid_cmp);
	return ret;
}

/* Put the entry back after an answer could not be carried out, so that it
   is not lost: the client's answer overwrote the value. */
static void
readreceipt_queue_restore(struct readreceipt_process_context *ctx,
			  const struct readreceipt_mail_info *info,
			  const struct readreceipt_verdict *verdict,
			  const struct readreceipt_pending *old,
			  const char *reason)
{
	struct readreceipt_pending pending;
	const char *error;

	if (old != NULL && reason == NULL)
		pending = *old;
	else {
		readreceipt_process_pending(info, verdict,
			reason != NULL ? reason :
			READRECEIPT_PENDING_REASON_PROMPT, &pending);
		if (old != NULL)
			pending.since = old->since;
	}
	if (readreceipt_queue_add(ctx->box, info->uid, &pending, &error) < 0) {
		e_error(ctx->ruser->event, "Failed to keep the pending "
			"receipt of UID %u in %s: %s", info->uid,
			ctx->box->vname, error);
	}
}

static void
readreceipt_queue_drop(struct readreceipt_process_context *ctx, uint32_t uid)
{
	const char *error;

	if (readreceipt_queue_remove(ctx->box, uid, &error) < 0) {
		e_error(ctx->ruser->event, "Failed to remove the pending "
			"receipt of UID %u in %s: %s", uid, ctx->box->vname,
			error);
	}
}

static int
readreceipt_queue_answer_one(struct readreceipt_process_context *ctx,
			     uint32_t uid, enum readreceipt_answer answer,
			     const struct readreceipt_pending *old,
			     bool *sent_r, const char **error_r)
{
	struct readreceipt_mail_info info;
	struct readreceipt_verdict verdict;
	enum readreceipt_send_result result;
	const char *error = NULL;
	int ret;

	ret = readreceipt_process_read(ctx, uid, &info);
	if (ret <= 0) {
		readreceipt_queue_drop(ctx, uid);
		*error_r = ret < 0 ? "Failed to read the message" :
			t_strdup_printf("No message with UID %u in %s", uid,
					ctx->box->vname);
		return ret;
	}
	/* The user's answer is the consent: only what the policy forbids
	   outright stops it. */
	readreceipt_policy_decide(ctx->set, &info.msg, FALSE, TRUE,
				  pool_datastack_create(), &verdict);
	if (verdict.action == READRECEIPT_ACTION_NONE) {
		readreceipt_queue_drop(ctx, uid);
		*error_r = t_strdup_printf("The message with UID %u in %s "
					   "does not ask for a receipt", uid,
					   ctx->box->vname);
		return 0;
	}
	if (answer == READRECEIPT_ANSWER_IGNORE) {
		if (readreceipt_process_mdnsent(ctx->box, uid, TRUE,
						&error) < 0) {
			readreceipt_process_emit(ctx, &info, &verdict,
						 "failed", "storage", error);
			*error_r = error;
			return -1;
		}
		readreceipt_queue_drop(ctx, uid);
		readreceipt_process_emit(ctx, &info, &verdict, "ignored",
					 "user", NULL);
		return 1;
	}
	if (ctx->trigger == READRECEIPT_TRIGGER_FLUSH &&
	    verdict.action != READRECEIPT_ACTION_SEND &&
	    verdict.action != READRECEIPT_ACTION_SUPPRESS) {
		/* the policy changed while it waited: now it needs the
		   user's consent, or nobody can give it */
		if (verdict.action == READRECEIPT_ACTION_QUEUE) {
			readreceipt_queue_restore(ctx, &info, &verdict, old,
						  verdict.reason);
			readreceipt_process_emit(ctx, &info, &verdict,
						 "queued", verdict.reason,
						 NULL);
		} else {
			readreceipt_queue_drop(ctx, uid);
			readreceipt_process_emit(ctx, &info, &verdict,
						 "ignored", verdict.reason,
						 NULL);
		}
		return 1;
	}
	if (verdict.action == READRECEIPT_ACTION_SUPPRESS) {
		readreceipt_queue_drop(ctx, uid);
		readreceipt_process_emit(ctx, &info, &verdict, "suppressed",
					 verdict.reason, NULL);
		if (strcmp(verdict.reason, "already_sent") == 0)
			return 1;
		*error_r = t_strdup_printf("The policy does not allow this "
					   "receipt (%s)", verdict.reason);
		return -1;
	}

	result = readreceipt_process_send(ctx, &info, &verdict,
		ctx->trigger == READRECEIPT_TRIGGER_FLUSH &&
		verdict.action == READRECEIPT_ACTION_SEND, &error);
	switch (result) {
	case READRECEIPT_SEND_OK:
		*sent_r = TRUE;
		readreceipt_queue_drop(ctx, uid);
		readreceipt_process_emit(ctx, &info, &verdict, "sent",
			ctx->trigger == READRECEIPT_TRIGGER_FLUSH ?
			verdict.reason : "user", NULL);
		return 1;
	case READRECEIPT_SEND_ALREADY_SENT:
		readreceipt_queue_drop(ctx, uid);
		readreceipt_process_emit(ctx, &info, &verdict, "suppressed",
					 "already_sent", NULL);
		return 1;
	case READRECEIPT_SEND_TEMPORARY_FAILURE:
	case READRECEIPT_SEND_RATE_LIMITED:
		/* it waits for the next try */
		readreceipt_queue_restore(ctx, &info, &verdict, old,
			ctx->trigger != READRECEIPT_TRIGGER_FLUSH ? NULL :
			result == READRECEIPT_SEND_RATE_LIMITED ?
			READRECEIPT_PENDING_REASON_RATE_LIMITED :
			READRECEIPT_PENDING_REASON_RETRY);
		readreceipt_process_emit(ctx, &info, &verdict, "queued",
			result == READRECEIPT_SEND_RATE_LIMITED ?
			READRECEIPT_PENDING_REASON_RATE_LIMITED :
			READRECEIPT_PENDING_REASON_RETRY, error);
		*error_r = error;
		return -1;
	default:
		if (result != READRECEIPT_SEND_PERMANENT_FAILURE)
			readreceipt_queue_restore(ctx, &info, &verdict, old,
						  NULL);
		else
			readreceipt_queue_drop(ctx, uid);
		readreceipt_process_emit(ctx, &info, &verdict, "failed",
			readreceipt_send_result_reason(result), error);
		*error_r = error;
		return -1;
	}
}

int readreceipt_queue_answer(struct mailbox *box, uint32_t uid,
			     enum readreceipt_answer answer,
			     enum readreceipt_queue_trigger trigger,
			     const char **error_r)
{
	struct readreceipt_process_context ctx;
	bool sent = FALSE;
	int ret;

	readreceipt_process_begin(&ctx, box,
		trigger == READRECEIPT_QUEUE_TRIGGER_FLUSH ?
		READRECEIPT_TRIGGER_FLUSH : READRECEIPT_TRIGGER_ANSWER);
	ret = readreceipt_queue_answer_one(&ctx, uid, answer, NULL, &sent,
					   error_r);
	readreceipt_process_end(&ctx);
	return ret;
}

int readreceipt_queue_flush(struct mailbox *box, unsigned int *sent_r,
			    const char **error_r)
{
	ARRAY_TYPE(readreceipt_pending_entry) entries;
	const struct readreceipt_pending_entry *entry;
	struct readreceipt_process_context ctx;
	const char *error;
	pool_t pool;

	*sent_r = 0;
	/* not the data stack: the JSON parser has frames of its own */
	pool = pool_alloconly_create("readreceipt flush", 1024);
	p_array_init(&entries, pool, 8);
	if (readreceipt_queue_list(box, pool, &entries, error_r) < 0) {
		pool_unref(&pool);
		return -1;
	}

	readreceipt_process_begin(&ctx, box, READRECEIPT_TRIGGER_FLUSH);
	array_foreach(&entries, entry) {
		const char *reason = entry->pending.reason;

		if (strcmp(reason, READRECEIPT_PENDING_REASON_RETRY) != 0 &&
		    strcmp(reason, READRECEIPT_PENDING_REASON_RATE_LIMITED) != 0)
			continue;
		T_BEGIN {
			bool sent = FALSE;

			(void)readreceipt_queue_answer_one(&ctx, entry->uid,
				READRECEIPT_ANSWER_SEND, &entry->pending,
				&sent, &error);
			if (sent)
				(*sent_r)++;
		} T_END;
	}
	readreceipt_process_end(&ctx);
	pool_unref(&pool);
	return 0;
}
