/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "ioloop.h"
#include "mail-storage-private.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"
#include "readreceipt-user.h"
#include "readreceipt-outbox.h"
#include "readreceipt-message.h"
#include "readreceipt-decide.h"
#include "readreceipt-sender.h"
#include "readreceipt-storage.h"

#include <time.h>

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

struct readreceipt_answer_rec {
	uint32_t uid;
	enum readreceipt_answer answer;
};

struct readreceipt_expunge_rec {
	uint32_t uid;
	bool pending;
	bool owed;
};

struct readreceipt_transaction {
	union mailbox_transaction_module_context module_ctx;

	/* UIDs that newly got \Seen; only the first bulk_limit+1 are kept
	   in IMAP, since more means "mark as read" anyway */
	ARRAY_TYPE(uint32_t) uids;
	unsigned int seen_count;
	/* answers to pending entries set in this transaction */
	ARRAY(struct readreceipt_answer_rec) answers;
	/* messages on which the client set $MDNSent itself */
	ARRAY_TYPE(uint32_t) mdnsent_uids;
	/* expunged messages that had a prompt or an owed receipt */
	ARRAY(struct readreceipt_expunge_rec) expunged;
	/* the header info of uids that the command read itself (FETCH
	   BODY[]), taken from its own stream; in pool */
	pool_t pool;
	ARRAY_TYPE(readreceipt_message_read) read;
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

	/* created on the first change that matters only, so that the
	   many transactions without one cost nothing */
	rt = i_new(struct readreceipt_transaction, 1);
	i_array_init(&rt->uids, 4);
	rt->ignore = t->reason != NULL &&
		str_begins_with(t->reason, READRECEIPT_VIRTUAL_REASON_PREFIX);
	MODULE_CONTEXT_SET(t, readreceipt_storage_module, rt);
	return rt;
}

static void readreceipt_transaction_free(struct readreceipt_transaction *rt)
{
	array_free(&rt->uids);
	if (array_is_created(&rt->answers))
		array_free(&rt->answers);
	if (array_is_created(&rt->mdnsent_uids))
		array_free(&rt->mdnsent_uids);
	if (array_is_created(&rt->expunged))
		array_free(&rt->expunged);
	pool_unref(&rt->pool);
	i_free(rt);
}


bool readreceipt_storage_add_answer(struct mailbox_transaction_context *t,
				    uint32_t uid,
				    enum readreceipt_answer answer)
{
	struct readreceipt_transaction *rt;
	struct readreceipt_answer_rec *rec;

	if (READRECEIPT_CONTEXT(t->box) == NULL)
		return FALSE;
	rt = readreceipt_transaction_get(t);
	if (!array_is_created(&rt->answers))
		i_array_init(&rt->answers, 4);
	rec = array_append_space(&rt->answers);
	rec->uid = uid;
	rec->answer = answer;
	return TRUE;
}

/* The command reads the message itself (FETCH BODY[]): read the header
   the decision needs from the command's own stream now, instead of
   opening the message once more at the commit. */
static void
readreceipt_mail_read_now(struct readreceipt_transaction *rt,
			  struct mail *mail)
{
	struct readreceipt_message_read read;

	if (rt->pool == NULL) {
		rt->pool = pool_alloconly_create("readreceipt read", 1024);
		p_array_init(&rt->read, rt->pool, 4);
	}
	read.uid = mail->uid;
	T_BEGIN {
		/* a header that cannot be read now is read again at the
		   commit */
		if (readreceipt_message_read_pool(mail, rt->pool, &read.info))
			array_push_back(&rt->read, &read);
	} T_END;
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
	bool newly_seen, pop3;

	/* Only FETCH and STORE open a message. The imap module names the
	   running command; another one that sets \Seen (e.g. an imapsieve
	   script run by COPY or APPEND) never triggers a receipt. Without
	   the imap module the command is unknown and every \Seen counts. */
	newly_seen = modify_type != MODIFY_REMOVE &&
		(flags & MAIL_SEEN) != 0 && !ruser->busy &&
		readreceipt_user_opens_mail(ruser) &&
		ruser->imap_command != READRECEIPT_IMAP_COMMAND_OTHER &&
		(mail_get_flags(_mail) & MAIL_SEEN) == 0;

	rmail->module_ctx.super.update_flags(_mail, modify_type, flags);
	if (!newly_seen)
		return;

	rt = readreceipt_transaction_get(_mail->transaction);
	if (rt->ignore)
		return;
	pop3 = ruser->session == READRECEIPT_SESSION_POP3;
	if (pop3 || rt->seen_count <= ruser->set->bulk_limit) {
		array_push_back(&rt->uids, &_mail->uid);
		/* the one past the bulk limit only makes it "mark as read":
		   nothing of it is read */
		if ((pop3 || rt->seen_count < ruser->set->bulk_limit) &&
		    (mail->wanted_fields & (MAIL_FETCH_STREAM_HEADER |
					    MAIL_FETCH_STREAM_BODY)) != 0)
			readreceipt_mail_read_now(rt, _mail);
	}
	rt->seen_count++;
}

static bool
readreceipt_keywords_have_mdnsent(struct mail_keywords *keywords,
				  struct mailbox *box)
{
	const ARRAY_TYPE(keywords) *names = mail_index_get_keywords(box->index);
	unsigned int i;

	if (keywords == NULL)
		return FALSE;
	for (i = 0; i < keywords->count; i++) {
		const char *name = array_idx_elem(names, keywords->idx[i]);

		if (strcasecmp(name, READRECEIPT_KEYWORD_MDNSENT) == 0)
			return TRUE;
	}
	return FALSE;
}

static void
readreceipt_mail_update_keywords(struct mail *_mail,
				 enum modify_type modify_type,
				 struct mail_keywords *keywords)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	struct readreceipt_mail *rmail = READRECEIPT_MAIL_CONTEXT(mail);
	struct readreceipt_user *ruser =
		readreceipt_user_get(_mail->box->storage->user);

	rmail->module_ctx.super.update_keywords(_mail, modify_type, keywords);
	/* A client that sets $MDNSent itself has sent or declined its own
	   receipt: nothing waits for it any more. */
	if (!ruser->busy && modify_type != MODIFY_REMOVE &&
	    readreceipt_keywords_have_mdnsent(keywords, _mail->box)) {
		struct readreceipt_transaction *rt =
			readreceipt_transaction_get(_mail->transaction);

		if (!array_is_created(&rt->mdnsent_uids))
			i_array_init(&rt->mdnsent_uids, 8);
		array_push_back(&rt->mdnsent_uids, &_mail->uid);
	}
}

static void readreceipt_mail_expunge(struct mail *_mail)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	struct readreceipt_mail *rmail = READRECEIPT_MAIL_CONTEXT(mail);
	struct readreceipt_user *ruser =
		readreceipt_user_get(_mail->box->storage->user);

	struct readreceipt_transaction *rt;
	struct readreceipt_expunge_rec *rec;
	struct readreceipt_record record;

	rmail->module_ctx.super.expunge(_mail);
	if (ruser->busy)
		return;
	/* cheap when idle: a look at the index record, and nothing more
	   for a message that has neither a prompt nor an owed receipt */
	readreceipt_outbox_get(_mail->transaction, _mail->seq, &record);
	if ((record.flags & READRECEIPT_RECORD_FLAG_PENDING) == 0 &&
	    !readreceipt_record_is_owed(&record))
		return;
	rt = readreceipt_transaction_get(_mail->transaction);
	if (!array_is_created(&rt->expunged))
		i_array_init(&rt->expunged, 8);
	rec = array_append_space(&rt->expunged);
	rec->uid = _mail->uid;
	rec->pending = (record.flags & READRECEIPT_RECORD_FLAG_PENDING) != 0;
	rec->owed = readreceipt_record_is_owed(&record);
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
	v->update_keywords = readreceipt_mail_update_keywords;
	v->expunge = readreceipt_mail_expunge;
	MODULE_CONTEXT_SET(mail, readreceipt_mail_module, rmail);
}

/* Decide what the transaction's changes mean, into the transaction. */
static struct readreceipt_decide *
readreceipt_transaction_decide(struct mailbox_transaction_context *t,
			       struct readreceipt_transaction *rt)
{
	struct readreceipt_user *ruser =
		readreceipt_user_get(t->box->storage->user);
	const struct readreceipt_answer_rec *answer;
	const struct readreceipt_expunge_rec *expunged;
	struct readreceipt_decide *dec;
	const char *error;
	uint32_t uid;

	dec = readreceipt_decide_begin(t);
	/* An IMAP session sends right after the command: a receipt owed
	   while only a few claims wait before it is claimed by the decision
	   itself.
	   POP3 sends only after QUIT, too late for a claim. */
	if (ruser->session == READRECEIPT_SESSION_IMAP &&
	    ruser->sender != NULL &&
	    readreceipt_sender_can_claim(ruser->sender))
		readreceipt_decide_allow_claim(dec);
	if (rt->seen_count > 0)
		readreceipt_decide_seen(dec, &rt->uids, rt->seen_count,
					rt->pool == NULL ? NULL : &rt->read);
	if (array_is_created(&rt->answers)) {
		array_foreach(&rt->answers, answer) T_BEGIN {
			if (readreceipt_decide_answer(dec, answer->uid,
					answer->answer,
					READRECEIPT_TRIGGER_ANSWER,
					&error) <= 0) {
				e_warning(ruser->event, "Answer to the "
					  "pending receipt of UID %u in %s: "
					  "%s", answer->uid, t->box->vname,
					  error);
			}
		} T_END;
	}
	if (array_is_created(&rt->mdnsent_uids)) {
		array_foreach_elem(&rt->mdnsent_uids, uid) T_BEGIN {
			readreceipt_decide_client_mdnsent(dec, uid);
		} T_END;
	}
	if (array_is_created(&rt->expunged)) {
		array_foreach(&rt->expunged, expunged) T_BEGIN {
			readreceipt_decide_expunged(dec, expunged->uid,
						    expunged->pending,
						    expunged->owed);
		} T_END;
	}
	readreceipt_decide_precommit(dec);
	return dec;
}

static int
readreceipt_transaction_commit(struct mailbox_transaction_context *t,
			       struct mail_transaction_commit_changes *changes_r)
{
	struct mailbox *box = t->box;
	union mailbox_module_context *rbox = READRECEIPT_CONTEXT_REQUIRE(box);
	struct readreceipt_transaction *rt = READRECEIPT_CONTEXT(t);
	struct readreceipt_user *ruser;
	struct readreceipt_decide *dec = NULL;
	const ARRAY_TYPE(uint32_t) *owed;
	int ret;

	/* Receipts are decided and recorded in the transaction itself, so
	   that a receipt is owed exactly when the \Seen change commits;
	   nothing here waits for the network. */
	if (rt != NULL && !rt->ignore)
		dec = readreceipt_transaction_decide(t, rt);
	ret = rbox->super.transaction_commit(t, changes_r);
	if (dec != NULL) {
		owed = readreceipt_decide_end(dec, ret == 0);
		ruser = readreceipt_user_get(box->storage->user);
		if (ruser->sender != NULL) {
			readreceipt_sender_add_claims(ruser->sender, box,
				readreceipt_decide_claims(dec));
			if (array_count(owed) > 0)
				readreceipt_sender_add(ruser->sender, box,
						       owed);
		}
		readreceipt_decide_free(&dec);
	}
	if (rt != NULL)
		readreceipt_transaction_free(rt);
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

static void readreceipt_mailbox_free(struct mailbox *box)
{
	union mailbox_module_context *rbox = READRECEIPT_CONTEXT_REQUIRE(box);
	struct readreceipt_user *ruser =
		readreceipt_user_get(box->storage->user);

	if (ruser->sender != NULL)
		readreceipt_sender_box_freed(ruser->sender, box);
	rbox->super.free(box);
}

void readreceipt_mailbox_allocated(struct mailbox *box)
{
	struct readreceipt_user *ruser =
		readreceipt_user_get(box->storage->user);
	struct mailbox_vfuncs *v = box->vlast;
	union mailbox_module_context *rbox;

	if (ruser == NULL || ruser->busy ||
	    (box->flags & MAILBOX_FLAG_READONLY) != 0 ||
	    strcmp(box->storage->name, "virtual") == 0)
		return;

	rbox = p_new(box->pool, union mailbox_module_context, 1);
	rbox->super = *v;
	box->vlast = &rbox->super;
	v->transaction_commit = readreceipt_transaction_commit;
	v->transaction_rollback = readreceipt_transaction_rollback;
	v->free = readreceipt_mailbox_free;
	MODULE_CONTEXT_SET_SELF(box, readreceipt_storage_module, rbox);
	if (ruser->sender != NULL)
		readreceipt_sender_box_allocated(ruser->sender, box);
}
