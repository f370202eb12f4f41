/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "mail-storage-private.h"
#include "readreceipt-settings.h"
#include "readreceipt-user.h"
#include "readreceipt-process.h"
#include "readreceipt-storage.h"

#define READRECEIPT_CONTEXT(obj) \
	MODULE_CONTEXT(obj, readreceipt_storage_module)
#define READRECEIPT_CONTEXT_REQUIRE(obj) \
	MODULE_CONTEXT_REQUIRE(obj, readreceipt_storage_module)
#define READRECEIPT_MAIL_CONTEXT(obj) \
	MODULE_CONTEXT_REQUIRE(obj, readreceipt_mail_module)

/* The virtual storage's own transactions on its backend mailboxes start
   with this reason; flag changes made through a virtual mailbox never
   trigger a receipt (SPEC §3). */
#define READRECEIPT_VIRTUAL_REASON_PREFIX "virtual_"

struct readreceipt_transaction {
	union mailbox_transaction_module_context module_ctx;

	/* UIDs that newly got \Seen; only the first bulk_limit+1 are kept
	   in IMAP, since more means "mark as read" anyway */
	ARRAY_TYPE(uint32_t) uids;
	unsigned int seen_count;
	bool ignore:1;
};

struct readreceipt_mail {
	union mail_module_context module_ctx;
};

static MODULE_CONTEXT_DEFINE_INIT(readreceipt_storage_module,
				  &mail_storage_module_register);
static MODULE_CONTEXT_DEFINE_INIT(readreceipt_mail_module,
				  &mail_module_register);

static struct readreceipt_transaction *
readreceipt_transaction_get(struct mailbox_transaction_context *t)
{
	struct readreceipt_transaction *rt = READRECEIPT_CONTEXT(t);

	if (rt != NULL)
		return rt;

	/* created on the first \Seen change only, so that the many
	   transactions without one cost nothing */
	rt = i_new(struct readreceipt_transaction, 1);
	i_array_init(&rt->uids, 4);
	rt->ignore = t->reason != NULL &&
		str_begins(t->reason, READRECEIPT_VIRTUAL_REASON_PREFIX);
	MODULE_CONTEXT_SET(t, readreceipt_storage_module, rt);
	return rt;
}

static void readreceipt_transaction_free(struct readreceipt_transaction *rt)
{
	array_free(&rt->uids);
	i_free(rt);
}

static void
readreceipt_mail_update_flags(struct mail *_mail, enum modify_type modify_type,
			      enum mail_flags flags)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	struct readreceipt_mail *rmail = READRECEIPT_MAIL_CONTEXT(mail);
	struct readreceipt_user *ruser =
		readreceipt_user_get(_mail->box->storage->user);
	struct readreceipt_transaction *rt;
	bool newly_seen;

	newly_seen = modify_type != MODIFY_REMOVE &&
		(flags & MAIL_SEEN) != 0 && !ruser->busy &&
		(mail_get_flags(_mail) & MAIL_SEEN) == 0;

	rmail->module_ctx.super.update_flags(_mail, modify_type, flags);
	if (!newly_seen)
		return;

	rt = readreceipt_transaction_get(_mail->transaction);
	if (rt->ignore)
		return;
	if (ruser->session == READRECEIPT_SESSION_POP3 ||
	    array_count(&rt->uids) <= ruser->set->bulk_limit)
		array_push_back(&rt->uids, &_mail->uid);
	rt->seen_count++;
}

void readreceipt_mail_allocated(struct mail *_mail)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	struct mail_vfuncs *v = mail->vlast;
	struct readreceipt_mail *rmail;

	if (READRECEIPT_CONTEXT(_mail->box) == NULL)
		return;

	rmail = p_new(mail->pool, struct readreceipt_mail, 1);
	rmail->module_ctx.super = *v;
	mail->vlast = &rmail->module_ctx.super;
	v->update_flags = readreceipt_mail_update_flags;
	MODULE_CONTEXT_SET(mail, readreceipt_mail_module, rmail);
}

static int
readreceipt_transaction_commit(struct mailbox_transaction_context *t,
			       struct mail_transaction_commit_changes *changes_r)
{
	struct mailbox *box = t->box;
	union mailbox_module_context *rbox = READRECEIPT_CONTEXT_REQUIRE(box);
	struct readreceipt_transaction *rt = READRECEIPT_CONTEXT(t);
	int ret;

	/* act only once the \Seen change is committed: a failed commit
	   never sends a receipt */
	ret = rbox->super.transaction_commit(t, changes_r);
	if (rt != NULL) {
		if (ret == 0 && !rt->ignore && rt->seen_count > 0)
			readreceipt_process_seen(box, &rt->uids,
						 rt->seen_count);
		readreceipt_transaction_free(rt);
	}
	return ret;
}

static void
readreceipt_transaction_rollback(struct mailbox_transaction_context *t)
{
	union mailbox_module_context *rbox =
		READRECEIPT_CONTEXT_REQUIRE(t->box);
	struct readreceipt_transaction *rt = READRECEIPT_CONTEXT(t);

	rbox->super.transaction_rollback(t);
	if (rt != NULL)
		readreceipt_transaction_free(rt);
}

void readreceipt_mailbox_allocated(struct mailbox *box)
{
	struct readreceipt_user *ruser =
		readreceipt_user_get(box->storage->user);
	struct mailbox_vfuncs *v = box->vlast;
	union mailbox_module_context *rbox;

	if (ruser == NULL || !readreceipt_user_opens_mail(ruser) ||
	    ruser->busy || (box->flags & MAILBOX_FLAG_READONLY) != 0 ||
	    strcmp(box->storage->name, "virtual") == 0)
		return;

	rbox = p_new(box->pool, union mailbox_module_context, 1);
	rbox->super = *v;
	box->vlast = &rbox->super;
	v->transaction_commit = readreceipt_transaction_commit;
	v->transaction_rollback = readreceipt_transaction_rollback;
	MODULE_CONTEXT_SET_SELF(box, readreceipt_storage_module, rbox);
}
