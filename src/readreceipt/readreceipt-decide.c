/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "ioloop.h"
#include "file-lock.h"
#include "wildcard-match.h"
#include "mail-cache.h"
#include "mail-storage-private.h"
#include "readreceipt-settings.h"
#include "readreceipt-policy.h"
#include "readreceipt-mdn.h"
#include "readreceipt-user.h"
#include "readreceipt-refresh.h"
#include "readreceipt-message.h"
#include "readreceipt-names.h"
#include "readreceipt-outbox.h"
#include "readreceipt-rate.h"
#include "readreceipt-receipt.h"
#include "readreceipt-queue.h"
#include "readreceipt-decide.h"

struct readreceipt_decide_event {
	const char *decision;
	const char *reason;
	const char *error;
	const char *message_id;
	const char *recipient;
	uint32_t uid;
	enum readreceipt_trigger trigger;
};

struct readreceipt_decide {
	pool_t pool;
	struct mailbox_transaction_context *t;
	struct mailbox *box;
	struct readreceipt_user *ruser;
	const struct readreceipt_settings *set;

	/* allocated on the first message that is read */
	struct mail *mail;
	/* Flags and records of a transaction that is EXTERNAL (METADATA's
	   own) go into a transaction of the module's own, committed just
	   before it: an external transaction's flag changes never reach the
	   mail files. */
	struct mailbox_transaction_context *ft;
	struct mail *fmail;
	struct file_lock *lock;
	/* the latest committed index, opened when the lock was taken: no
	   other process changes a record while it is held */
	struct mail_index_view *fresh_view;
	ARRAY(struct readreceipt_decide_event) events;
	ARRAY_TYPE(uint32_t) owed;
	ARRAY_TYPE(readreceipt_claim) claims;

	/* readreceipt_exclude matches the mailbox; known once a message is
	   read (expunges and client flags never need it) */
	bool excluded:1;
	bool excluded_known:1;
	bool hint_added:1;
	bool claim_allowed:1;
};

/* One message as the decision reads it. */
struct readreceipt_decide_msg {
	struct readreceipt_message_info info;
	struct readreceipt_verdict verdict;
	struct readreceipt_record rec;
};

static bool
readreceipt_mailbox_excluded(struct mailbox *box,
			     const struct readreceipt_settings *set)
{
	const char *pattern;

	array_foreach_elem(&set->exclude, pattern) {
		if (pattern[0] == '\\') {
			/* special-use flags as the mailbox {} blocks of the
			   configuration assign them */
			if (mailbox_has_special_use(box, pattern))
				return TRUE;
		} else if (strcasecmp(pattern, "INBOX") == 0) {
			if (strcmp(box->vname, "INBOX") == 0)
				return TRUE;
		} else if (wildcard_match(box->vname, pattern)) {
			return TRUE;
		}
	}
	return FALSE;
}

struct readreceipt_decide *
readreceipt_decide_begin(struct mailbox_transaction_context *t)
{
	struct readreceipt_decide *dec;
	pool_t pool;

	pool = pool_alloconly_create("readreceipt decide", 1024);
	dec = p_new(pool, struct readreceipt_decide, 1);
	dec->pool = pool;
	dec->t = t;
	dec->box = t->box;
	dec->ruser = readreceipt_user_get(t->box->storage->user);
	i_assert(dec->ruser != NULL);
	dec->set = readreceipt_user_policy(dec->ruser);
	p_array_init(&dec->events, pool, 4);
	p_array_init(&dec->owed, pool, 4);
	p_array_init(&dec->claims, pool, 1);
	/* A decision reads a message's header once: Dovecot must not start
	   caching a dozen header fields of every message for it (a cache
	   file that grows with each receipt, written and mapped again). The
	   client's own lookups are over when its transaction commits. */
	if (t->cache_view != NULL)
		mail_cache_view_update_cache_decisions(t->cache_view, FALSE);
	return dec;
}

void readreceipt_decide_allow_claim(struct readreceipt_decide *dec)
{
	dec->claim_allowed = TRUE;
}

static void
readreceipt_decide_event(struct readreceipt_decide *dec, uint32_t uid,
			 const struct readreceipt_decide_msg *msg,
			 enum readreceipt_trigger trigger,
			 const char *decision, const char *reason,
			 const char *error)
{
	struct readreceipt_decide_event *ev;

	ev = array_append_space(&dec->events);
	ev->decision = decision;
	ev->reason = p_strdup(dec->pool, reason);
	ev->error = p_strdup(dec->pool, error);
	ev->uid = uid;
	ev->trigger = trigger;
	ev->message_id = msg == NULL ? "" : p_strdup(dec->pool,
		readreceipt_event_message_id(msg->info.message_id));
	ev->recipient = msg == NULL ||
		!array_is_created(&msg->verdict.recipients) ? "" :
		p_strdup(dec->pool,
			 readreceipt_event_addresses(&msg->verdict.recipients));
}

static struct mail *readreceipt_decide_mail(struct readreceipt_decide *dec)
{
	if (dec->mail == NULL)
		dec->mail = mail_alloc(dec->t, MAIL_FETCH_FLAGS, NULL);
	return dec->mail;
}

/* Read only what the answer "ignore" needs: whether uid asks for a receipt
   (the verdict's action is then SUPPRESS, else NONE: no policy is applied),
   its Message-ID and the requested addresses, for the event. Returns 1,
   or 0 when the message is gone. Strings are on the data stack. */
static int
readreceipt_decide_read_request(struct readreceipt_decide *dec, uint32_t uid,
				struct readreceipt_decide_msg *msg_r)
{
	struct mail *mail = readreceipt_decide_mail(dec);
	struct readreceipt_message_info *info = &msg_r->info;

	i_zero(msg_r);
	t_array_init(&msg_r->verdict.recipients, 4);
	if (!mail_set_uid(mail, uid))
		return 0;
	(void)readreceipt_message_read(mail, info);
	if (info->msg.disposition_notification_to != NULL) {
		msg_r->verdict.action = READRECEIPT_ACTION_SUPPRESS;
		readreceipt_policy_request_addresses(&info->msg,
			&msg_r->verdict.recipients);
	}
	readreceipt_outbox_get(dec->t, mail->seq, &msg_r->rec);
	return mail->expunged ? 0 : 1;
}

/* Read uid (unless known: its header info, as read by the command) and
   decide by the policy. Returns 1, or 0 when the message is gone. Strings
   are on the data stack. */
static int
readreceipt_decide_read(struct readreceipt_decide *dec, uint32_t uid,
			const struct readreceipt_message_info *known,
			bool can_prompt, struct readreceipt_decide_msg *msg_r)
{
	struct mail *mail;

	i_zero(msg_r);
	if (known != NULL && known->msg.disposition_notification_to == NULL) {
		/* asks for no receipt: nothing else about it matters (the
		   verdict's action is NONE) */
		msg_r->info = *known;
		return 1;
	}
	mail = readreceipt_decide_mail(dec);
	if (!mail_set_uid(mail, uid))
		return 0;
	if (known != NULL)
		msg_r->info = *known;
	else
		(void)readreceipt_message_read(mail, &msg_r->info);
	msg_r->info.msg.has_mdnsent = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNSENT);
	msg_r->info.msg.has_mdnask = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNASK);
	if (!dec->excluded_known) {
		dec->excluded = readreceipt_mailbox_excluded(dec->box,
							     dec->set);
		dec->excluded_known = TRUE;
	}
	msg_r->info.msg.excluded_mailbox = dec->excluded;
	readreceipt_outbox_get(dec->t, mail->seq, &msg_r->rec);
	readreceipt_policy_decide(dec->set, &msg_r->info.msg, can_prompt, TRUE,
				  pool_datastack_create(), &msg_r->verdict);
	return mail->expunged ? 0 : 1;
}

static void readreceipt_decide_unlock(struct readreceipt_decide *dec)
{
	if (dec->fresh_view != NULL)
		mail_index_view_close(&dec->fresh_view);
	readreceipt_outbox_unlock(&dec->lock);
}

/* Take the user's outbox lock for the rest of the transaction and read
   uid's record as committed now. Returns 1 when the record is still
   empty (rec_r is it), 0 when another session decided meanwhile, -1 on
   error. */
static int
readreceipt_decide_lock(struct readreceipt_decide *dec, uint32_t uid,
			struct readreceipt_record *rec_r, const char **error_r)
{
	int ret;

	if (dec->lock == NULL) {
		ret = readreceipt_outbox_lock(dec->box->storage->user,
					      &dec->lock, error_r);
		if (ret <= 0) {
			if (ret == 0)
				*error_r = "Timed out waiting for the "
					"receipt lock";
			return -1;
		}
		dec->fresh_view = readreceipt_outbox_view_fresh(dec->box);
	}
	if (readreceipt_outbox_view_get(dec->fresh_view, dec->box, uid,
					rec_r) == 0)
		return 0;
	return rec_r->state == READRECEIPT_RECORD_NONE &&
		(rec_r->flags & READRECEIPT_RECORD_FLAG_PENDING) == 0 ? 1 : 0;
}

/* Write the current message's record, and with mdnsent its $MDNSent,
   into the transaction that carries flag changes. */
static void
readreceipt_decide_write(struct readreceipt_decide *dec,
			 const struct readreceipt_record *rec, bool mdnsent)
{
	const char *const names[] = { READRECEIPT_KEYWORD_MDNSENT, NULL };
	struct mailbox_transaction_context *t = dec->t;
	struct mail *mail = dec->mail;
	struct mail_keywords *kw;
	bool prev_busy = dec->ruser->busy;

	/* the module's own keyword is not a client's answer */
	dec->ruser->busy = TRUE;
	if ((dec->t->flags & MAILBOX_TRANSACTION_FLAG_EXTERNAL) != 0) {
		if (dec->ft == NULL) {
			dec->ft = mailbox_transaction_begin(dec->box, 0,
				"readreceipt answer");
			dec->fmail = mail_alloc(dec->ft, 0, NULL);
		}
		t = dec->ft;
		mail = dec->fmail;
		if (!mail_set_uid(mail, dec->mail->uid)) {
			dec->ruser->busy = prev_busy;
			return;
		}
	}
	readreceipt_outbox_set(t, mail->seq, rec);
	if (mdnsent) {
		kw = mailbox_keywords_create_valid(dec->box, names);
		mail_update_keywords(mail, MODIFY_ADD, kw);
		mailbox_keywords_unref(&kw);
	}
	dec->ruser->busy = prev_busy;
}

static int
readreceipt_decide_queue_write(struct readreceipt_decide *dec, uint32_t uid,
			       const struct readreceipt_pending *pending,
			       const char **error_r)
{
	bool prev_busy = dec->ruser->busy;
	int ret;

	/* the module's own writes are not answers */
	dec->ruser->busy = TRUE;
	ret = pending == NULL ?
		readreceipt_queue_unset(dec->t, uid, error_r) :
		readreceipt_queue_set(dec->t, uid, pending, error_r);
	dec->ruser->busy = prev_busy;
	return ret;
}

/* Record the receipt of the current mail as owed, with $MDNSent, in the
   transaction; claimed: as being sent by this process since now. */
static int
readreceipt_decide_owe(struct readreceipt_decide *dec, bool manual,
		       bool claimed, enum readreceipt_trigger trigger,
		       const char **error_r)
{
	struct readreceipt_record rec;

	if (!dec->hint_added) {
		/* before the commit: a process that dies after it leaves
		   the mailbox listed for the next session */
		if (readreceipt_outbox_hint_add(dec->box, error_r) < 0)
			return -1;
		dec->hint_added = TRUE;
	}
	i_zero(&rec);
	rec.state = claimed ? READRECEIPT_RECORD_SENDING :
		READRECEIPT_RECORD_OWED;
	rec.flags = manual ? READRECEIPT_RECORD_FLAG_MANUAL : 0;
	rec.trigger = trigger;
	rec.wait = READRECEIPT_RECORD_WAIT_NEW;
	rec.stamp = ioloop_time;
	readreceipt_decide_write(dec, &rec, TRUE);
	if (!claimed)
		array_push_back(&dec->owed, &dec->mail->uid);
	return 0;
}

/* Claim the current mail's receipt at once when the session allows it
   (readreceipt_decide_allow_claim), building its MDN from the header just
   read. Returns TRUE when the claim is in dec->claims. */
static bool
readreceipt_decide_claim(struct readreceipt_decide *dec,
			 const struct readreceipt_decide_msg *msg,
			 enum readreceipt_trigger trigger)
{
	struct readreceipt_claim *claim;
	const char *error;
	string_t *mdn;

	if (!dec->claim_allowed)
		return FALSE;
	/* past the hourly limit the sender says so, as for any receipt;
	   after a failure here the transaction's other receipts are owed
	   as usual, without trying again */
	dec->claim_allowed = FALSE;
	if (readreceipt_rate_check(dec->box->storage->user,
				   dec->set->max_per_hour, ioloop_time) == 0)
		return FALSE;
	mdn = str_new(dec->pool, 2048);
	if (readreceipt_receipt_build(dec->mail, dec->set, &msg->info,
				      &msg->verdict, TRUE, mdn, &error) < 0) {
		/* owed as usual: the sender builds it and says why not */
		return FALSE;
	}
	claim = array_append_space(&dec->claims);
	claim->uid = dec->mail->uid;
	claim->stamp = ioloop_time;
	claim->claimed_at = ioloop_timeval;
	claim->trigger = trigger;
	claim->reason = p_strdup(dec->pool, msg->verdict.reason);
	claim->message_id = p_strdup(dec->pool,
		readreceipt_event_message_id(msg->info.message_id));
	claim->recipient = p_strdup(dec->pool,
		readreceipt_event_addresses(&msg->verdict.recipients));
	claim->mdn = mdn;
	readreceipt_receipt_copy_addrs(dec->pool, &claim->recipients,
				       &msg->verdict.recipients);
	return TRUE;
}

static void
readreceipt_decide_pending(const struct readreceipt_decide_msg *msg,
			   const char *reason,
			   struct readreceipt_pending *pending_r)
{
	i_zero(pending_r);
	t_array_init(&pending_r->to, 4);
	if (array_is_created(&msg->verdict.recipients))
		array_append_array(&pending_r->to, &msg->verdict.recipients);
	pending_r->subject = msg->info.subject == NULL ? "" :
		readreceipt_mdn_clean_subject(msg->info.subject);
	/* bounded like an event field, so that the entry stays within
	   READRECEIPT_PENDING_JSON_MAX whatever the original holds (the
	   request is at most 4 KB, the subject 256 bytes) */
	pending_r->message_id = readreceipt_event_field(msg->info.message_id);
	pending_r->reason = reason;
	pending_r->since = ioloop_time;
}

static void
readreceipt_decide_queue(struct readreceipt_decide *dec, uint32_t uid,
			 struct readreceipt_decide_msg *msg,
			 enum readreceipt_trigger trigger)
{
	struct readreceipt_pending pending;
	struct readreceipt_record rec;
	const char *error;
	int ret;

	if (!dec->ruser->queue_available) {
		if (!dec->ruser->no_dict_logged) {
			dec->ruser->no_dict_logged = TRUE;
			e_error(dec->ruser->event, "Receipts that wait for "
				"the user need mail_attribute_dict: none is "
				"configured, so they are dropped");
		}
		readreceipt_decide_event(dec, uid, msg, trigger, "failed",
			READRECEIPT_REASON_NO_ATTRIBUTE_DICT, NULL);
		return;
	}
	if ((ret = readreceipt_decide_lock(dec, uid, &rec, &error)) <= 0) {
		if (ret < 0) {
			readreceipt_decide_event(dec, uid, msg, trigger,
				"failed", READRECEIPT_REASON_LOCK, error);
		}
		return;
	}
	readreceipt_decide_pending(msg, msg->verdict.reason, &pending);
	if (readreceipt_decide_queue_write(dec, uid, &pending, &error) < 0) {
		readreceipt_decide_event(dec, uid, msg, trigger, "failed",
					 READRECEIPT_REASON_STORAGE, error);
		return;
	}
	rec.flags |= READRECEIPT_RECORD_FLAG_PENDING;
	readreceipt_decide_write(dec, &rec, FALSE);
	readreceipt_decide_event(dec, uid, msg, trigger, "queued",
				 msg->verdict.reason, NULL);
}

static void
readreceipt_decide_send(struct readreceipt_decide *dec, uint32_t uid,
			struct readreceipt_decide_msg *msg,
			enum readreceipt_trigger trigger)
{
	struct readreceipt_record rec;
	const char *error;
	bool claimed;
	int ret;

	if (dec->set->user_email == NULL) {
		readreceipt_decide_event(dec, uid, msg, trigger, "failed",
			READRECEIPT_REASON_NO_USER_EMAIL,
			"readreceipt_user_email is not set "
			"and the username is not an address");
		return;
	}
	ret = readreceipt_decide_lock(dec, uid, &rec, &error);
	if (ret == 0) {
		/* another session owes or sent it already */
		readreceipt_decide_event(dec, uid, msg, trigger,
					 "suppressed",
					 READRECEIPT_REASON_ALREADY_SENT, NULL);
		return;
	}
	claimed = ret > 0 && readreceipt_decide_claim(dec, msg, trigger);
	if (ret < 0 || readreceipt_decide_owe(dec, FALSE, claimed, trigger,
					      &error) < 0) {
		if (claimed) {
			array_delete(&dec->claims,
				     array_count(&dec->claims) - 1, 1);
		}
		readreceipt_decide_event(dec, uid, msg, trigger, "failed",
					 ret < 0 ? READRECEIPT_REASON_LOCK :
					 READRECEIPT_REASON_STORAGE, error);
	}
	/* the event follows once the relay has accepted it */
}

static void
readreceipt_decide_one(struct readreceipt_decide *dec, uint32_t uid,
		       const struct readreceipt_message_info *known,
		       enum readreceipt_trigger trigger)
{
	struct readreceipt_decide_msg msg;

	if (readreceipt_decide_read(dec, uid, known,
				    dec->ruser->session_can_prompt, &msg) <= 0)
		return;
	if (msg.verdict.action == READRECEIPT_ACTION_NONE)
		return;
	if (msg.rec.state != READRECEIPT_RECORD_NONE) {
		/* decided before: the record, not the keyword, says so,
		   whatever clients did to the flags since */
		readreceipt_decide_event(dec, uid, &msg, trigger,
					 "suppressed",
					 READRECEIPT_REASON_ALREADY_SENT, NULL);
		return;
	}
	if ((msg.rec.flags & READRECEIPT_RECORD_FLAG_PENDING) != 0) {
		/* its prompt waits already */
		return;
	}
	switch (msg.verdict.action) {
	case READRECEIPT_ACTION_NONE:
		break;
	case READRECEIPT_ACTION_SUPPRESS:
	case READRECEIPT_ACTION_IGNORE:
		readreceipt_decide_event(dec, uid, &msg, trigger,
			readreceipt_action_to_decision(msg.verdict.action),
			msg.verdict.reason, NULL);
		break;
	case READRECEIPT_ACTION_QUEUE:
		readreceipt_decide_queue(dec, uid, &msg, trigger);
		break;
	case READRECEIPT_ACTION_SEND:
		readreceipt_decide_send(dec, uid, &msg, trigger);
		break;
	}
}

void readreceipt_decide_seen(struct readreceipt_decide *dec,
			     const ARRAY_TYPE(uint32_t) *uids,
			     unsigned int seen_count,
			     const ARRAY_TYPE(readreceipt_message_read) *read)
{
	const struct readreceipt_message_read *known = NULL;
	unsigned int known_count = 0, known_idx = 0;
	enum readreceipt_trigger trigger;
	uint32_t uid;

	if (dec->ruser->session == READRECEIPT_SESSION_POP3)
		trigger = READRECEIPT_TRIGGER_POP3;
	else if (seen_count > dec->set->bulk_limit) {
		/* "mark as read": one event for the whole command, and not
		   a single header read */
		readreceipt_decide_event(dec, 0, NULL, READRECEIPT_TRIGGER_MARK,
					 "suppressed", READRECEIPT_REASON_BULK,
					 NULL);
		return;
	} else {
		trigger = READRECEIPT_TRIGGER_OPEN;
	}
	if (read != NULL)
		known = array_get(read, &known_count);
	/* read holds some of uids, in their order */
	array_foreach_elem(uids, uid) T_BEGIN {
		const struct readreceipt_message_info *info = NULL;

		if (known_idx < known_count && known[known_idx].uid == uid)
			info = &known[known_idx++].info;
		readreceipt_decide_one(dec, uid, info, trigger);
	} T_END;
}

int readreceipt_decide_answer(struct readreceipt_decide *dec, uint32_t uid,
			      enum readreceipt_answer answer,
			      enum readreceipt_trigger trigger,
			      const char **error_r)
{
	struct readreceipt_decide_msg msg;
	struct readreceipt_record rec;
	const char *error;
	int ret;

	/* the user's answer is the consent: only what the policy forbids
	   outright stops it; "ignore" needs no policy */
	if (answer == READRECEIPT_ANSWER_IGNORE)
		ret = readreceipt_decide_read_request(dec, uid, &msg);
	else
		ret = readreceipt_decide_read(dec, uid, NULL, FALSE, &msg);
	if (ret <= 0) {
		*error_r = t_strdup_printf("No message with UID %u in %s",
					   uid, dec->box->vname);
		return 0;
	}
	if (msg.verdict.action == READRECEIPT_ACTION_NONE) {
		(void)readreceipt_decide_queue_write(dec, uid, NULL, &error);
		*error_r = t_strdup_printf("The message with UID %u in %s "
					   "does not ask for a receipt", uid,
					   dec->box->vname);
		return 0;
	}
	ret = readreceipt_decide_lock(dec, uid, &rec, error_r);
	if (ret < 0) {
		readreceipt_decide_event(dec, uid, &msg, trigger, "failed",
					 READRECEIPT_REASON_LOCK, *error_r);
		return -1;
	}
	if (ret == 0 && rec.state != READRECEIPT_RECORD_NONE) {
		/* answered, sent or owed already: the entry (if the
		   client's answer left one) goes */
		(void)readreceipt_decide_queue_write(dec, uid, NULL, &error);
		readreceipt_decide_event(dec, uid, &msg, trigger,
					 "suppressed",
					 READRECEIPT_REASON_ALREADY_SENT, NULL);
		return 1;
	}
	/* The answer value itself is never kept as an entry: whatever the
	   client stored is removed in this transaction. */
	if (readreceipt_decide_queue_write(dec, uid, NULL, error_r) < 0) {
		readreceipt_decide_event(dec, uid, &msg, trigger, "failed",
					 READRECEIPT_REASON_STORAGE, *error_r);
		return -1;
	}
	if (answer == READRECEIPT_ANSWER_IGNORE) {
		i_zero(&rec);
		rec.state = READRECEIPT_RECORD_DONE;
		rec.stamp = ioloop_time;
		readreceipt_decide_write(dec, &rec, TRUE);
		readreceipt_decide_event(dec, uid, &msg, trigger, "ignored",
			READRECEIPT_REASON_USER, NULL);
		return 1;
	}
	if (msg.verdict.action == READRECEIPT_ACTION_SUPPRESS) {
		readreceipt_decide_event(dec, uid, &msg, trigger,
					 "suppressed", msg.verdict.reason,
					 NULL);
		if (strcmp(msg.verdict.reason,
			   READRECEIPT_REASON_ALREADY_SENT) == 0)
			return 1;
		/* the prompt is over: the policy forbids the receipt now */
		i_zero(&rec);
		readreceipt_decide_write(dec, &rec, FALSE);
		*error_r = t_strdup_printf("The policy does not allow this "
					   "receipt (%s)", msg.verdict.reason);
		return -1;
	}
	if (dec->set->user_email == NULL) {
		*error_r = "readreceipt_user_email is not set and the "
			"username is not an address";
		readreceipt_decide_event(dec, uid, &msg, trigger, "failed",
			READRECEIPT_REASON_NO_USER_EMAIL, *error_r);
		return -1;
	}
	if (readreceipt_decide_owe(dec, TRUE, FALSE, trigger, error_r) < 0) {
		readreceipt_decide_event(dec, uid, &msg, trigger, "failed",
					 READRECEIPT_REASON_STORAGE, *error_r);
		return -1;
	}
	return 1;
}

void readreceipt_decide_client_mdnsent(struct readreceipt_decide *dec,
				       uint32_t uid)
{
	struct mail *mail = readreceipt_decide_mail(dec);
	struct readreceipt_record rec;
	const char *error;

	if (!mail_set_uid(mail, uid))
		return;
	readreceipt_outbox_get(dec->t, mail->seq, &rec);
	/* cheap when idle: only a message with a prompt costs a write */
	if ((rec.flags & READRECEIPT_RECORD_FLAG_PENDING) == 0)
		return;
	if (readreceipt_decide_queue_write(dec, uid, NULL, &error) < 0) {
		e_error(dec->ruser->event, "Failed to remove the pending "
			"receipt of UID %u in %s: %s", uid, dec->box->vname,
			error);
		return;
	}
	/* the client sent or declined its own receipt */
	i_zero(&rec);
	rec.state = READRECEIPT_RECORD_DONE;
	rec.stamp = ioloop_time;
	readreceipt_decide_write(dec, &rec, FALSE);
}

void readreceipt_decide_expunged(struct readreceipt_decide *dec, uint32_t uid,
				 bool pending, bool owed)
{
	const char *error;

	if (pending &&
	    readreceipt_decide_queue_write(dec, uid, NULL, &error) < 0) {
		e_error(dec->ruser->event, "Failed to remove the pending "
			"receipt of UID %u in %s: %s", uid, dec->box->vname,
			error);
	}
	if (owed) {
		readreceipt_decide_event(dec, uid, NULL,
			READRECEIPT_TRIGGER_FLUSH, "failed",
			READRECEIPT_REASON_EXPUNGED,
			"The message was expunged before its receipt left");
	}
}

void readreceipt_decide_precommit(struct readreceipt_decide *dec)
{
	bool prev_busy = dec->ruser->busy;

	if (dec->mail != NULL)
		mail_free(&dec->mail);
	if (dec->t->cache_view != NULL &&
	    (dec->t->flags & MAILBOX_TRANSACTION_FLAG_NO_CACHE_DEC) == 0) {
		mail_cache_view_update_cache_decisions(dec->t->cache_view,
						       TRUE);
	}
	if (dec->ft == NULL)
		return;
	mail_free(&dec->fmail);
	dec->ruser->busy = TRUE;
	if (mailbox_transaction_commit(&dec->ft) < 0) {
		e_error(dec->ruser->event, "Failed to record the answers in "
			"%s: %s", dec->box->vname,
			mailbox_get_last_internal_error(dec->box, NULL));
		array_clear(&dec->owed);
		array_clear(&dec->claims);
	}
	dec->ruser->busy = prev_busy;
}

const ARRAY_TYPE(uint32_t) *
readreceipt_decide_end(struct readreceipt_decide *dec, bool committed)
{
	const struct readreceipt_decide_event *ev;
	struct readreceipt_decision_info dinfo;

	i_assert(dec->mail == NULL);
	readreceipt_decide_unlock(dec);
	if (!committed) {
		/* nothing was decided after all */
		array_clear(&dec->owed);
		array_clear(&dec->claims);
		return &dec->owed;
	}
	array_foreach(&dec->events, ev) {
		i_zero(&dinfo);
		dinfo.decision = ev->decision;
		dinfo.reason = ev->reason;
		dinfo.trigger = readreceipt_trigger_to_str(ev->trigger);
		dinfo.mode = readreceipt_mode_to_str(dec->set->mode);
		dinfo.mailbox = dec->box->vname;
		dinfo.uid = ev->uid;
		dinfo.message_id = ev->message_id;
		dinfo.recipient = ev->recipient;
		dinfo.error = ev->error;
		readreceipt_event_decision(dec->ruser->event, &dinfo);
	}
	return &dec->owed;
}

const ARRAY_TYPE(readreceipt_claim) *
readreceipt_decide_claims(struct readreceipt_decide *dec)
{
	return &dec->claims;
}

void readreceipt_decide_free(struct readreceipt_decide **_dec)
{
	struct readreceipt_decide *dec = *_dec;

	*_dec = NULL;
	i_assert(dec->mail == NULL);
	readreceipt_decide_unlock(dec);
	pool_unref(&dec->pool);
}

/* Commit the module's own transaction t, then finish and free dec.
   Returns 0, or -1 with *error_r. */
static int
readreceipt_decide_commit_own(struct readreceipt_decide **_dec,
			      struct mailbox_transaction_context **_t,
			      const char **error_r)
{
	struct readreceipt_decide *dec = *_dec;
	struct mailbox *box = (*_t)->box;
	int ret = 0;

	*_dec = NULL;
	readreceipt_decide_precommit(dec);
	if (mailbox_transaction_commit(_t) < 0) {
		*error_r = mailbox_get_last_internal_error(box, NULL);
		ret = -1;
	}
	(void)readreceipt_decide_end(dec, ret == 0);
	readreceipt_decide_free(&dec);
	return ret;
}

int readreceipt_decide_answer_now(struct mailbox *box, uint32_t uid,
				  enum readreceipt_answer answer,
				  const char **error_r)
{
	struct mailbox_transaction_context *t;
	struct readreceipt_decide *dec;
	int ret;

	t = mailbox_transaction_begin(box, 0, "readreceipt answer");
	dec = readreceipt_decide_begin(t);
	ret = readreceipt_decide_answer(dec, uid, answer,
					READRECEIPT_TRIGGER_ANSWER, error_r);
	if (readreceipt_decide_commit_own(&dec, &t, error_r) < 0)
		ret = -1;
	return ret;
}

int readreceipt_decide_expire(struct mailbox *box, unsigned int expire_secs,
			      unsigned int *expired_r, const char **error_r)
{
	ARRAY_TYPE(readreceipt_pending_entry) entries;
	const struct readreceipt_pending_entry *entry;
	struct mailbox_transaction_context *t;
	struct readreceipt_decide *dec;
	struct readreceipt_decide_msg msg;
	struct readreceipt_record rec;
	const char *error;
	pool_t pool;
	int ret = 0;

	*expired_r = 0;
	if (expire_secs == 0)
		return 0;
	/* not the data stack: the JSON parser has frames of its own */
	pool = pool_alloconly_create("readreceipt expire", 1024);
	p_array_init(&entries, pool, 8);
	if (readreceipt_queue_list(box, pool, &entries, error_r) < 0) {
		pool_unref(&pool);
		return -1;
	}
	t = mailbox_transaction_begin(box, 0, "readreceipt expire");
	dec = readreceipt_decide_begin(t);
	array_foreach(&entries, entry) T_BEGIN {
		if ((uint64_t)entry->pending.since + expire_secs <=
		    (uint64_t)ioloop_time &&
		    readreceipt_decide_read(dec, entry->uid, NULL, FALSE,
					    &msg) > 0 &&
		    readreceipt_decide_lock(dec, entry->uid, &rec,
					    &error) >= 0) {
			(void)readreceipt_decide_queue_write(dec, entry->uid,
							     NULL, &error);
			i_zero(&rec);
			rec.state = READRECEIPT_RECORD_DONE;
			rec.stamp = ioloop_time;
			readreceipt_decide_write(dec, &rec, TRUE);
			readreceipt_decide_event(dec, entry->uid, &msg,
				READRECEIPT_TRIGGER_FLUSH, "ignored",
				READRECEIPT_REASON_EXPIRED, NULL);
			(*expired_r)++;
		}
	} T_END;
	if (readreceipt_decide_commit_own(&dec, &t, error_r) < 0) {
		*expired_r = 0;
		ret = -1;
	}
	pool_unref(&pool);
	return ret;
}
