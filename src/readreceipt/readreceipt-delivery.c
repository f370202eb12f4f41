/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "seq-range-array.h"
#include "mail-storage-private.h"
#include "readreceipt-settings.h"
#include "readreceipt-policy.h"
#include "readreceipt-message.h"
#include "readreceipt-event.h"
#include "readreceipt-user.h"
#include "readreceipt-refresh.h"
#include "readreceipt-delivery.h"

#define READRECEIPT_DELIVERY_CONTEXT(obj) \
	MODULE_CONTEXT(obj, readreceipt_delivery_storage_module)
#define READRECEIPT_DELIVERY_CONTEXT_REQUIRE(obj) \
	MODULE_CONTEXT_REQUIRE(obj, readreceipt_delivery_storage_module)

/* One message saved with $MDNSent; its event waits for the commit, which
   also gives it its UID. */
struct readreceipt_delivery_mark {
	/* the how-manieth save of the transaction */
	unsigned int save_idx;
	const char *reason;
	const char *message_id;
	const char *recipient;
};

struct readreceipt_delivery_transaction {
	union mailbox_transaction_module_context module_ctx;
	pool_t pool;
	ARRAY(struct readreceipt_delivery_mark) marks;
};

static MODULE_CONTEXT_DEFINE_INIT(readreceipt_delivery_storage_module,
				  &mail_storage_module_register);

static bool
readreceipt_delivery_has_keyword(struct mail_save_context *ctx,
				 const char *name)
{
	struct mail_keywords *kw = ctx->data.keywords;
	const ARRAY_TYPE(keywords) *names;
	unsigned int i;

	if (kw == NULL)
		return FALSE;
	names = mail_index_get_keywords(ctx->transaction->box->index);
	for (i = 0; i < kw->count; i++) {
		if (strcasecmp(array_idx_elem(names, kw->idx[i]), name) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Add a keyword to those the message is saved with (the delivery's own,
   e.g. from a Sieve addflag). Returns FALSE if the mailbox takes no
   keywords. */
static bool
readreceipt_delivery_add_keyword(struct mail_save_context *ctx,
				 const char *name)
{
	struct mailbox *box = ctx->transaction->box;
	const char *const names[] = { name, NULL };
	ARRAY_TYPE(keyword_indexes) indexes;
	struct mail_keywords *add;

	add = mailbox_keywords_create_valid(box, names);
	if (add->count == 0) {
		mailbox_keywords_unref(&add);
		return FALSE;
	}
	t_array_init(&indexes, 8);
	if (ctx->data.keywords != NULL) {
		array_append(&indexes, ctx->data.keywords->idx,
			     ctx->data.keywords->count);
		mailbox_keywords_unref(&ctx->data.keywords);
	}
	array_append(&indexes, add->idx, add->count);
	mailbox_keywords_unref(&add);
	/* the save context owns this reference, as it owns the one that
	   mailbox_save_set_flags() took */
	ctx->data.keywords = mailbox_keywords_create_from_indexes(box,
								  &indexes);
	return TRUE;
}

/* Decide whether the message being saved gets $MDNSent, and give it the
   keyword if so. Returns TRUE and *mark_r (strings on the data stack)
   when it does. */
static bool
readreceipt_delivery_judge(struct readreceipt_user *ruser,
			   struct mail_save_context *ctx, struct mail *mail,
			   struct readreceipt_delivery_mark *mark_r)
{
	struct readreceipt_message_info info;
	struct readreceipt_verdict verdict;

	(void)readreceipt_message_read(mail, &info);
	if (info.msg.disposition_notification_to == NULL)
		return FALSE;
	/* The source's own keywords do not count: in LMTP the second
	   recipient's copy comes from the first recipient's saved message.
	   The mailbox does not count either (the message may be moved). */
	info.msg.has_mdnsent = readreceipt_delivery_has_keyword(ctx,
		READRECEIPT_KEYWORD_MDNSENT);
	info.msg.has_mdnask = readreceipt_delivery_has_keyword(ctx,
		READRECEIPT_KEYWORD_MDNASK);

	readreceipt_policy_decide(readreceipt_user_policy(ruser), &info.msg, FALSE, FALSE,
				  pool_datastack_create(), &verdict);
	if (!readreceipt_policy_hide_at_delivery(&verdict) ||
	    !readreceipt_delivery_add_keyword(ctx,
					      READRECEIPT_KEYWORD_MDNSENT))
		return FALSE;

	i_zero(mark_r);
	mark_r->reason = verdict.reason;
	mark_r->message_id = t_strdup(
		readreceipt_event_message_id(info.message_id));
	mark_r->recipient = readreceipt_event_addresses(&verdict.recipients);
	return TRUE;
}

static void
readreceipt_delivery_add_mark(struct mailbox_transaction_context *t,
			      const struct readreceipt_delivery_mark *mark)
{
	struct readreceipt_delivery_transaction *rt =
		READRECEIPT_DELIVERY_CONTEXT(t);
	struct readreceipt_delivery_mark *copy;
	pool_t pool;

	/* created only for a transaction that marks a message, so that the
	   many deliveries without a receipt request cost nothing more */
	if (rt == NULL) {
		pool = pool_alloconly_create("readreceipt delivery", 512);
		rt = p_new(pool, struct readreceipt_delivery_transaction, 1);
		rt->pool = pool;
		p_array_init(&rt->marks, pool, 2);
		MODULE_CONTEXT_SET(t, readreceipt_delivery_storage_module, rt);
	}
	copy = array_append_space(&rt->marks);
	copy->save_idx = mark->save_idx;
	copy->reason = p_strdup(rt->pool, mark->reason);
	copy->message_id = p_strdup(rt->pool, mark->message_id);
	copy->recipient = p_strdup(rt->pool, mark->recipient);
}

static int
readreceipt_delivery_copy(struct mail_save_context *ctx, struct mail *mail)
{
	struct mailbox_transaction_context *t = ctx->transaction;
	union mailbox_module_context *rbox =
		READRECEIPT_DELIVERY_CONTEXT_REQUIRE(t->box);
	struct readreceipt_user *ruser =
		readreceipt_user_get(t->box->storage->user);
	struct readreceipt_delivery_mark mark;
	bool marked;

	/* Deliveries save through mailbox_save_using_mail(); anything else
	   is a copy of a message that was judged when it arrived. */
	marked = ctx->saving &&
		readreceipt_delivery_judge(ruser, ctx, mail, &mark);
	if (marked)
		mark.save_idx = t->save_count;
	if (rbox->super.copy(ctx, mail) < 0)
		return -1;
	if (marked)
		readreceipt_delivery_add_mark(t, &mark);
	return 0;
}

static void
readreceipt_delivery_emit(struct mailbox *box,
			  const struct readreceipt_delivery_transaction *rt,
			  const struct mail_transaction_commit_changes *changes)
{
	struct readreceipt_user *ruser =
		readreceipt_user_get(box->storage->user);
	const struct readreceipt_delivery_mark *mark;
	struct readreceipt_decision_info info;
	struct seq_range_iter iter;
	uint32_t uid;

	seq_range_array_iter_init(&iter, &changes->saved_uids);
	array_foreach(&rt->marks, mark) {
		/* UIDs are known only where the backend assigned them at
		   commit; the field is left out otherwise */
		if (!seq_range_array_iter_nth(&iter, mark->save_idx, &uid))
			uid = 0;
		i_zero(&info);
		info.decision = readreceipt_action_to_decision(
			READRECEIPT_ACTION_SUPPRESS);
		info.reason = mark->reason;
		info.trigger = readreceipt_trigger_to_str(
			READRECEIPT_TRIGGER_DELIVERY);
		info.mode = readreceipt_mode_to_str(ruser->set->mode);
		info.mailbox = box->vname;
		info.uid = uid;
		info.message_id = mark->message_id;
		info.recipient = mark->recipient;
		readreceipt_event_decision(ruser->event, &info);
	}
}

static int
readreceipt_delivery_transaction_commit(
	struct mailbox_transaction_context *t,
	struct mail_transaction_commit_changes *changes_r)
{
	struct mailbox *box = t->box;
	union mailbox_module_context *rbox =
		READRECEIPT_DELIVERY_CONTEXT_REQUIRE(box);
	struct readreceipt_delivery_transaction *rt =
		READRECEIPT_DELIVERY_CONTEXT(t);
	int ret;

	ret = rbox->super.transaction_commit(t, changes_r);
	if (rt != NULL) {
		/* only what was really saved is reported */
		if (ret == 0 && array_count(&rt->marks) > 0) T_BEGIN {
			readreceipt_delivery_emit(box, rt, changes_r);
		} T_END;
		pool_unref(&rt->pool);
	}
	return ret;
}

static void
readreceipt_delivery_transaction_rollback(struct mailbox_transaction_context *t)
{
	union mailbox_module_context *rbox =
		READRECEIPT_DELIVERY_CONTEXT_REQUIRE(t->box);
	struct readreceipt_delivery_transaction *rt =
		READRECEIPT_DELIVERY_CONTEXT(t);

	rbox->super.transaction_rollback(t);
	if (rt != NULL)
		pool_unref(&rt->pool);
}

void readreceipt_delivery_mailbox_allocated(struct mailbox *box)
{
	struct readreceipt_user *ruser =
		readreceipt_user_get(box->storage->user);
	struct mailbox_vfuncs *v = box->vlast;
	union mailbox_module_context *rbox;

	/* nothing is wrapped where nothing is marked: deliveries to users
	   without readreceipt_hide_forbidden cost nothing */
	if (ruser == NULL || ruser->session != READRECEIPT_SESSION_DELIVERY ||
	    !readreceipt_user_policy(ruser)->hide_forbidden)
		return;

	rbox = p_new(box->pool, union mailbox_module_context, 1);
	rbox->super = *v;
	box->vlast = &rbox->super;
	v->copy = readreceipt_delivery_copy;
	v->transaction_commit = readreceipt_delivery_transaction_commit;
	v->transaction_rollback = readreceipt_delivery_transaction_rollback;
	MODULE_CONTEXT_SET_SELF(box, readreceipt_delivery_storage_module,
				rbox);
}
