/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "ioloop.h"
#include "time-util.h"
#include "istream.h"
#include "hostpid.h"
#include "utc-offset.h"
#include "file-lock.h"
#include "message-size.h"
#include "mail-storage-private.h"
#include "mail-namespace.h"
#include "readreceipt-settings.h"
#include "readreceipt-policy.h"
#include "readreceipt-mdn.h"
#include "readreceipt-receipt.h"
#include "readreceipt-user.h"
#include "readreceipt-refresh.h"
#include "readreceipt-names.h"
#include "readreceipt-event.h"
#include "readreceipt-message.h"
#include "readreceipt-outbox.h"
#include "readreceipt-rate.h"
#include "readreceipt-send.h"
#include "readreceipt-queue.h"
#include "readreceipt-decide.h"
#include "readreceipt-sender.h"

#include <time.h>

/* after a temporary failure, a session tries again this much later */
#define READRECEIPT_SENDER_RETRY_SECS 60
/* after readreceipt_max_per_hour was reached */
#define READRECEIPT_SENDER_RATE_RETRY_SECS 300
/* A receipt its decision claimed goes out as it was built if it starts
   within this many milliseconds of the claim; one that waited longer (behind
   a slow relay) is checked and built again under the lock, like any
   claim, so that it never outlives readreceipt_submission_timeout. */
#define READRECEIPT_SENDER_CLAIM_FRESH_MSECS 1000
/* A decision claims only while the session's queue holds nothing but
   fewer claims than this: what a process killed at once leaves to turn
   stale (readreceipt_submission_timeout + 5 s) instead of owed. */
#define READRECEIPT_SENDER_MAX_CLAIMS 8
/* The record of a receipt the relay accepted is marked done together with
   those of the receipts that follow it within this many milliseconds: one
   lock, one commit and one append to the hourly counter for a row of
   receipts instead of one each, which is most of what a receipt costs
   beside the SMTP exchange. Meanwhile `doveadm readreceipt list` shows it
   as being sent, and a process killed in that moment leaves a claim that
   is sent again once stale (at most one duplicate, with the same
   Message-ID). */
#define READRECEIPT_SENDER_RECORD_DELAY_MSECS 500
/* At most this many records wait, and only while the first of them was
   claimed at most READRECEIPT_SENDER_RECORD_DEFER_MSECS ago, so that
   every record is marked done within the submission timeout of the last
   send plus this, before its claim could turn stale
   (readreceipt_submission_timeout + 5 s). */
#define READRECEIPT_SENDER_RECORD_DEFER_MSECS 2000

enum readreceipt_job_start {
	/* nothing to send: done, gone, or claimed by another process */
	READRECEIPT_JOB_SKIP = 0,
	/* claimed: the submission is ready to run */
	READRECEIPT_JOB_READY,
	/* readreceipt_max_per_hour reached: the batch stops */
	READRECEIPT_JOB_RATE_LIMITED,
	/* the lock or the storage failed: the batch stops */
	READRECEIPT_JOB_ERROR,
};

/* The smtp-submit result: 1 sent, 0 permanent, -1 temporary failure, and
   the module's own: the session ended before any of it reached the relay
   (owed again), or with the relay's answer out of reach (the claim is
   left to turn stale). */
#define READRECEIPT_JOB_NOT_STARTED (-2)
#define READRECEIPT_JOB_UNKNOWN (-3)

struct readreceipt_sender_item {
	char *vname;
	uint32_t uid;
	/* the first try by the process that decided it: the event keeps
	   the decision's trigger; any later try is a "flush" */
	bool first;
	/* claimed by the decision (its own pool), else NULL */
	pool_t claim_pool;
	const struct readreceipt_claim *claim;
};

struct readreceipt_job {
	pool_t pool;
	struct mail_user *user;
	struct readreceipt_user *ruser;
	struct readreceipt_sender *sender;
	/* the mailbox is open only while the record is read or written, never
	   while the relay is talking: an open mailbox holds the user */
	struct mailbox *box;
	bool own_box;
	const char *vname;
	uint32_t uid;
	bool first;
	/* the claim the decision took (from claim_pool, which the job
	   owns), else NULL */
	pool_t claim_pool;
	const struct readreceipt_claim *claim;
	/* when the record was written as being sent */
	struct timeval claimed_at;

	/* for the event */
	enum readreceipt_trigger trigger;
	const char *reason;
	const char *message_id;
	const char *recipient;

	/* the receipt, built while the claim was taken */
	string_t *mdn;
	ARRAY_TYPE(const_string) recipients;
	struct readreceipt_send *send;
	int status;
	const char *error;
};

struct readreceipt_sender {
	struct mail_user *user;
	struct readreceipt_user *ruser;
	ARRAY(struct readreceipt_sender_item) queue;
	/* the session's own mailbox instances (those the module watches):
	   the record is read and written in one that is open, without
	   opening the mailbox again */
	ARRAY(struct mailbox *) session_boxes;
	struct readreceipt_job *job;
	/* sent, their records not yet marked done (see
	   READRECEIPT_SENDER_RECORD_DEFER_MSECS); the sender stays the
	   process' active one meanwhile */
	ARRAY(struct readreceipt_job *) sent;
	struct timeout *to_run;
	struct timeout *to_retry;
	/* marks the records in sent done */
	struct timeout *to_record;
	bool scan:1;
};

/* one connection per process at a time: the sender whose job is in
   flight, and every session's sender to wake after it */
static struct readreceipt_sender *readreceipt_sender_active = NULL;
static ARRAY(struct readreceipt_sender *) readreceipt_senders;
/* that connection, kept for the next receipt for a moment */
static struct readreceipt_relay *readreceipt_sender_relay = NULL;

static void readreceipt_sender_kick(struct readreceipt_sender *sender);
static int
readreceipt_sender_record(struct readreceipt_sender *sender,
			  struct readreceipt_job *last);

static void
readreceipt_job_emit(struct readreceipt_job *job, const char *decision,
		     const char *reason, const char *error)
{
	struct readreceipt_decision_info dinfo;

	i_zero(&dinfo);
	dinfo.decision = decision;
	dinfo.reason = reason;
	dinfo.trigger = readreceipt_trigger_to_str(job->trigger);
	dinfo.mode = readreceipt_mode_to_str(job->ruser->set->mode);
	dinfo.mailbox = job->vname;
	dinfo.uid = job->uid;
	dinfo.message_id = job->message_id == NULL ? "" : job->message_id;
	dinfo.recipient = job->recipient == NULL ? "" : job->recipient;
	dinfo.error = error;
	readreceipt_event_decision(job->ruser->event, &dinfo);
}

/* Write the record of the job's message. Returns 1, 0 if the message is
   gone, -1 on error. */
static int
readreceipt_job_write(struct readreceipt_job *job,
		      const struct readreceipt_record *rec,
		      const char **error_r)
{
	struct mailbox_transaction_context *t;
	struct mail *mail;

	t = mailbox_transaction_begin(job->box,
				      MAILBOX_TRANSACTION_FLAG_EXTERNAL,
				      "readreceipt outbox");
	mail = mail_alloc(t, 0, NULL);
	if (!mail_set_uid(mail, job->uid)) {
		mail_free(&mail);
		mailbox_transaction_rollback(&t);
		return 0;
	}
	readreceipt_outbox_set(t, mail->seq, rec);
	mail_free(&mail);
	if (mailbox_transaction_commit(&t) < 0) {
		*error_r = mailbox_get_last_internal_error(job->box, NULL);
		return -1;
	}
	return 1;
}

/* Read the message and build its MDN into out; verdict_r holds what the
   policy says now. Returns 1, 0 if the message is gone, -1 on error. */
static int
readreceipt_job_build(struct readreceipt_job *job,
		      const struct readreceipt_record *rec,
		      struct readreceipt_verdict *verdict_r, string_t *out,
		      const char **error_r)
{
	/* judged again as it leaves, by the policy in force now */
	const struct readreceipt_settings *set =
		readreceipt_user_policy(job->ruser);
	struct mailbox_transaction_context *t;
	struct readreceipt_message_info minfo;
	struct mail *mail;
	int ret = 1;

	/* read once: no caching decision changes for it */
	t = mailbox_transaction_begin(job->box,
				      MAILBOX_TRANSACTION_FLAG_NO_CACHE_DEC,
				      "readreceipt read");
	mail = mail_alloc(t, 0, NULL);
	if (!mail_set_uid(mail, job->uid)) {
		ret = 0;
		goto out;
	}
	(void)readreceipt_message_read(mail, &minfo);
	if (mail->expunged) {
		ret = 0;
		goto out;
	}
	/* $MDNSent is the module's own since the receipt became owed */
	minfo.msg.has_mdnask = readreceipt_mail_has_keyword(mail,
		READRECEIPT_KEYWORD_MDNASK);
	readreceipt_policy_decide(set, &minfo.msg, FALSE, TRUE,
				  pool_datastack_create(), verdict_r);
	job->message_id = p_strdup(job->pool,
		readreceipt_event_message_id(minfo.message_id));
	if (array_is_created(&verdict_r->recipients)) {
		job->recipient = p_strdup(job->pool,
			readreceipt_event_addresses(&verdict_r->recipients));
	}
	if (verdict_r->action == READRECEIPT_ACTION_NONE ||
	    verdict_r->action == READRECEIPT_ACTION_SUPPRESS)
		goto out;
	if (readreceipt_receipt_build(mail, set, &minfo, verdict_r,
			(rec->flags & READRECEIPT_RECORD_FLAG_MANUAL) == 0,
			out, error_r) < 0)
		ret = -1;
out:
	mail_free(&mail);
	mailbox_transaction_rollback(&t);
	return ret;
}

/* Claim the receipt and prepare its submission, all under the lock. */
static enum readreceipt_job_start
readreceipt_job_start(struct readreceipt_job *job, const char **error_r)
{
	const struct readreceipt_settings *set = job->ruser->set;
	struct readreceipt_verdict verdict;
	struct readreceipt_record rec;
	struct file_lock *lock;
	const char *error;
	string_t *mdn;
	bool own_claim;
	int ret;

	if (job->mdn != NULL) {
		/* Claimed and built by the decision a moment ago. The hourly
		   limit is looked at again: a receipt at the relay when the
		   decision looked may have been counted since. */
		if (timeval_diff_msecs(&ioloop_timeval,
				       &job->claim->claimed_at) <=
		    READRECEIPT_SENDER_CLAIM_FRESH_MSECS &&
		    readreceipt_rate_check(job->user, set->max_per_hour,
					   ioloop_time) != 0) {
			job->claimed_at = job->claim->claimed_at;
			return READRECEIPT_JOB_READY;
		}
		job->mdn = NULL;
	}
	/* what the session sent before is counted before this one is
	   judged against the hourly limit */
	if (job->sender != NULL && array_count(&job->sender->sent) > 0)
		(void)readreceipt_sender_record(job->sender, NULL);
	ret = readreceipt_outbox_lock(job->user, &lock, error_r);
	if (ret <= 0) {
		if (ret == 0)
			*error_r = "Timed out waiting for the receipt lock";
		return READRECEIPT_JOB_ERROR;
	}
	if (readreceipt_outbox_get_fresh(job->box, job->uid, &rec) == 0) {
		readreceipt_outbox_unlock(&lock);
		return READRECEIPT_JOB_SKIP;
	}
	own_claim = job->claim != NULL &&
		readreceipt_record_claimed_at(&rec, job->claim->stamp);
	if (!own_claim && !readreceipt_record_claimable(&rec, ioloop_time,
					set->submission_timeout_secs)) {
		/* sent, or in another process' hands */
		readreceipt_outbox_unlock(&lock);
		return READRECEIPT_JOB_SKIP;
	}
	job->trigger = job->first && rec.wait == READRECEIPT_RECORD_WAIT_NEW &&
		(rec.state == READRECEIPT_RECORD_OWED || own_claim) ?
		rec.trigger : READRECEIPT_TRIGGER_FLUSH;

	mdn = t_str_new(2048);
	ret = readreceipt_job_build(job, &rec, &verdict, mdn, error_r);
	if (ret <= 0) {
		readreceipt_outbox_unlock(&lock);
		return ret == 0 ? READRECEIPT_JOB_SKIP : READRECEIPT_JOB_ERROR;
	}
	/* the user's answer, or what let it go out automatically */
	job->reason = (rec.flags & READRECEIPT_RECORD_FLAG_MANUAL) != 0 ?
		READRECEIPT_REASON_USER : p_strdup(job->pool, verdict.reason);
	if (verdict.action == READRECEIPT_ACTION_NONE ||
	    verdict.action == READRECEIPT_ACTION_SUPPRESS) {
		/* the policy forbids it now: it never leaves */
		rec.state = READRECEIPT_RECORD_DONE;
		rec.stamp = ioloop_time;
		if (readreceipt_job_write(job, &rec, &error) < 0) {
			e_error(job->ruser->event, "Failed to record the "
				"receipt of UID %u in %s: %s", job->uid,
				job->box->vname, error);
		}
		readreceipt_outbox_unlock(&lock);
		readreceipt_job_emit(job, "suppressed",
			verdict.action == READRECEIPT_ACTION_NONE ?
			READRECEIPT_REASON_INVALID_REQUEST : verdict.reason, NULL);
		return READRECEIPT_JOB_SKIP;
	}
	if (readreceipt_rate_check(job->user, set->max_per_hour,
				   ioloop_time) == 0) {
		rec.state = READRECEIPT_RECORD_OWED;
		rec.wait = READRECEIPT_RECORD_WAIT_RATE_LIMITED;
		rec.stamp = ioloop_time;
		ret = readreceipt_job_write(job, &rec, error_r);
		readreceipt_outbox_unlock(&lock);
		readreceipt_job_emit(job, "queued",
			READRECEIPT_REASON_RATE_LIMITED,
			t_strdup_printf("readreceipt_max_per_hour=%u reached",
					set->max_per_hour));
		return ret < 0 ? READRECEIPT_JOB_ERROR :
			READRECEIPT_JOB_RATE_LIMITED;
	}
	rec.state = READRECEIPT_RECORD_SENDING;
	rec.stamp = ioloop_time;
	ret = readreceipt_job_write(job, &rec, error_r);
	readreceipt_outbox_unlock(&lock);
	if (ret <= 0)
		return ret == 0 ? READRECEIPT_JOB_SKIP : READRECEIPT_JOB_ERROR;

	/* claimed: from here on no lock is held until the result */
	job->claimed_at = ioloop_timeval;
	job->mdn = str_new(job->pool, str_len(mdn));
	str_append_str(job->mdn, mdn);
	readreceipt_receipt_copy_addrs(job->pool, &job->recipients,
				      &verdict.recipients);
	return READRECEIPT_JOB_READY;
}

/* The job's record after the relay's answer. */
static void readreceipt_job_result(const struct readreceipt_job *job,
				   struct readreceipt_record *rec)
{
	rec->stamp = ioloop_time;
	switch (job->status) {
	case 1:
	case 0:
		rec->state = READRECEIPT_RECORD_DONE;
		break;
	case READRECEIPT_JOB_NOT_STARTED:
		rec->state = READRECEIPT_RECORD_OWED;
		break;
	default:
		rec->state = READRECEIPT_RECORD_OWED;
		rec->wait = READRECEIPT_RECORD_WAIT_RETRY;
		break;
	}
}

static void
readreceipt_job_record_failed(const struct readreceipt_job *job,
			      const char *error)
{
	e_error(job->ruser->event, "Failed to record the receipt of UID %u "
		"in %s: %s", job->uid, job->vname, error);
}

/* Record the results of jobs of one user (each with its mailbox open)
   under one lock, in one transaction per row of jobs in the same mailbox
   instance. What fails to be recorded is a claim that turns stale: the
   receipt is tried again. */
static void
readreceipt_jobs_record(struct readreceipt_job *const *jobs,
			unsigned int count)
{
	const struct readreceipt_settings *set = jobs[0]->ruser->set;
	struct mailbox_transaction_context *t;
	struct mail_index_view *view;
	struct readreceipt_record rec;
	struct readreceipt_job *job;
	struct file_lock *lock;
	struct mailbox *box;
	const char *error;
	unsigned int i, j, k, sent = 0;
	uint32_t seq;
	int ret;

	ret = readreceipt_outbox_lock(jobs[0]->user, &lock, &error);
	if (ret <= 0) {
		for (i = 0; i < count; i++) {
			readreceipt_job_record_failed(jobs[i], ret == 0 ?
				"Timed out waiting for the lock" : error);
		}
		return;
	}
	for (i = 0; i < count; i = j) {
		box = jobs[i]->box;
		view = readreceipt_outbox_view_fresh(box);
		t = mailbox_transaction_begin(box,
					      MAILBOX_TRANSACTION_FLAG_EXTERNAL,
					      "readreceipt outbox");
		for (j = i; j < count && jobs[j]->box == box; j++) {
			job = jobs[j];
			if (readreceipt_outbox_view_get(view, box, job->uid,
							&rec) <= 0)
				continue;
			if (job->status == 1)
				sent++;
			/* the record is all that is written: no mail needed */
			if (!mail_index_lookup_seq(t->view, job->uid, &seq))
				continue;
			readreceipt_job_result(job, &rec);
			/* The mailbox stays in the outbox list: the next
			   session's look at it drops it when nothing is
			   owed, instead of every receipt rewriting the
			   list. */
			readreceipt_outbox_set(t, seq, &rec);
		}
		mail_index_view_close(&view);
		if (mailbox_transaction_commit(&t) < 0) {
			error = mailbox_get_last_internal_error(box, NULL);
			for (k = i; k < j; k++)
				readreceipt_job_record_failed(jobs[k], error);
		}
	}
	if (readreceipt_rate_add(jobs[0]->user, set->max_per_hour,
				 ioloop_time, sent, &error) < 0) {
		e_error(jobs[0]->ruser->event, "Failed to count the "
			"receipts: %s", error);
	}
	readreceipt_outbox_unlock(&lock);
}

/* The event of the job's result, once it is recorded. */
static void readreceipt_job_emit_result(struct readreceipt_job *job)
{
	switch (job->status) {
	case 1:
		readreceipt_job_emit(job, "sent", job->reason, NULL);
		break;
	case 0:
		readreceipt_job_emit(job, "failed",
				     READRECEIPT_REASON_PERMANENT_FAILURE,
				     job->error);
		break;
	case READRECEIPT_JOB_NOT_STARTED:
		break;
	default:
		readreceipt_job_emit(job, "queued", READRECEIPT_REASON_RETRY,
				     job->error);
		break;
	}
}

/* Record the result. Returns the smtp-submit status. */
static int readreceipt_job_finish(struct readreceipt_job *job)
{
	if (job->send != NULL)
		readreceipt_send_abort(&job->send);
	readreceipt_jobs_record(&job, 1);
	readreceipt_job_emit_result(job);
	return job->status;
}

static struct readreceipt_job *
readreceipt_job_create(struct mailbox *box, bool own_box, uint32_t uid)
{
	struct readreceipt_job *job;
	pool_t pool;

	pool = pool_alloconly_create("readreceipt job", 512);
	job = p_new(pool, struct readreceipt_job, 1);
	job->pool = pool;
	job->box = box;
	job->own_box = own_box;
	job->vname = p_strdup(pool, box->vname);
	job->uid = uid;
	job->user = box->storage->user;
	job->ruser = readreceipt_user_get(job->user);
	i_assert(job->ruser != NULL);
	job->status = -1;
	return job;
}

/* Close the job's mailbox while the relay is talking (an open mailbox
   holds the user); the session's own instance is only let go of. */
static void readreceipt_job_release_box(struct readreceipt_job *job)
{
	if (job->own_box)
		mailbox_free(&job->box);
	else
		job->box = NULL;
}

static void readreceipt_job_free(struct readreceipt_job **_job)
{
	struct readreceipt_job *job = *_job;

	*_job = NULL;
	if (job->send != NULL)
		readreceipt_send_abort(&job->send);
	if (job->box != NULL)
		readreceipt_job_release_box(job);
	if (job->claim_pool != NULL)
		pool_unref(&job->claim_pool);
	pool_unref(&job->pool);
}

/* Send one receipt synchronously (doveadm, and what is left at the end
   of a session). Returns 1 sent or nothing to send, 0 permanent failure,
   -1 temporary failure, -2 rate limited, -3 error (*error_r). */
static int
readreceipt_job_run_sync(struct readreceipt_job *job, const char **error_r)
{
	const char *error = NULL;
	int ret = -3;

	T_BEGIN {
		enum readreceipt_job_start start =
			readreceipt_job_start(job, &error);

		switch (start) {
		case READRECEIPT_JOB_SKIP:
			ret = 1;
			break;
		case READRECEIPT_JOB_RATE_LIMITED:
			ret = -2;
			error = "readreceipt_max_per_hour reached";
			break;
		case READRECEIPT_JOB_ERROR:
			ret = -3;
			break;
		case READRECEIPT_JOB_READY:
			job->status = readreceipt_send_run(job->user,
				job->ruser->set, job->ruser->smtp_set,
				&job->recipients, job->mdn, &error);
			job->error = p_strdup(job->pool, error);
			ret = readreceipt_job_finish(job);
			error = job->error;
			break;
		}
		*error_r = t_strdup(error);
	} T_END_PASS_STR_IF(TRUE, error_r);
	return ret;
}

/* ---- the session's sender */

/* The mailbox vname: the session's own instance when it has it open
   (*own_r = FALSE), else an instance of the module's own. */
static struct mailbox *
readreceipt_sender_open(struct readreceipt_sender *sender, const char *vname,
			bool *own_r)
{
	struct mail_user *user = sender->user;
	struct readreceipt_user *ruser = sender->ruser;
	struct mail_namespace *ns;
	struct mailbox *box;
	bool prev_busy = ruser->busy;

	array_foreach_elem(&sender->session_boxes, box) {
		if (box->opened && strcmp(box->vname, vname) == 0) {
			*own_r = FALSE;
			return box;
		}
	}
	*own_r = TRUE;
	ns = mail_namespace_find(user->namespaces, vname);
	if (ns == NULL)
		return NULL;
	/* the module's own instance: its hooks stay out of it */
	ruser->busy = TRUE;
	box = mailbox_alloc(ns->list, vname, 0);
	ruser->busy = prev_busy;
	if (mailbox_open(box) < 0) {
		e_error(ruser->event, "Failed to open %s for its receipts: %s",
			vname, mailbox_get_last_internal_error(box, NULL));
		mailbox_free(&box);
		return NULL;
	}
	return box;
}

static void readreceipt_sender_wake_others(void)
{
	struct readreceipt_sender *sender;

	array_foreach_elem(&readreceipt_senders, sender) {
		if (array_count(&sender->queue) > 0 || sender->scan)
			readreceipt_sender_kick(sender);
	}
}

/* Claims that the decision took and that wait in the queue while the
   session waits out a failure (or ends): owed again now (why: wait), so
   that another session or a flush may send them at once instead of after
   the claim turned stale. They stay queued as ordinary owed receipts. */
static void
readreceipt_sender_release_claims(struct readreceipt_sender *sender,
				  enum readreceipt_record_wait wait)
{
	struct readreceipt_sender_item *item;
	struct readreceipt_record rec;
	struct readreceipt_job *job;
	struct file_lock *lock = NULL;
	struct mailbox *box;
	const char *error;
	bool own_box;
	int ret;

	array_foreach_modifiable(&sender->queue, item) {
		if (item->claim == NULL)
			continue;
		if (lock == NULL) {
			ret = readreceipt_outbox_lock(sender->user, &lock,
						      &error);
			if (ret <= 0) {
				e_error(sender->ruser->event, "Failed to "
					"release the claimed receipt of UID "
					"%u in %s (it is retried after "
					"readreceipt_submission_timeout): %s",
					item->uid, item->vname, ret == 0 ?
					"Timed out waiting for the lock" :
					error);
				return;
			}
		}
		box = readreceipt_sender_open(sender, item->vname, &own_box);
		if (box == NULL)
			continue;
		job = readreceipt_job_create(box, own_box, item->uid);
		if (readreceipt_outbox_get_fresh(box, item->uid, &rec) > 0 &&
		    readreceipt_record_claimed_at(&rec, item->claim->stamp)) {
			rec.state = READRECEIPT_RECORD_OWED;
			rec.wait = wait;
			rec.stamp = ioloop_time;
			if (readreceipt_job_write(job, &rec, &error) < 0) {
				e_error(sender->ruser->event, "Failed to "
					"release the claimed receipt of UID "
					"%u in %s: %s", item->uid,
					item->vname, error);
			}
		}
		readreceipt_job_free(&job);
		pool_unref(&item->claim_pool);
		item->claim = NULL;
	}
	if (lock != NULL)
		readreceipt_outbox_unlock(&lock);
}

static void readreceipt_sender_retry(struct readreceipt_sender *sender,
				     unsigned int secs,
				     enum readreceipt_record_wait wait)
{
	if (sender->to_retry != NULL)
		return;
	readreceipt_sender_release_claims(sender, wait);
	sender->to_retry = timeout_add(secs * 1000,
				       readreceipt_sender_start, sender);
}

/* Record the results of the receipts sent before (sender->sent) and of
   last (unless NULL) under one lock, then emit their events. Returns the
   status of last. */
static int
readreceipt_sender_record(struct readreceipt_sender *sender,
			  struct readreceipt_job *last)
{
	ARRAY(struct readreceipt_job *) jobs;
	struct readreceipt_job *job, **jobp, *prev = NULL;
	int status = last == NULL ? 1 : last->status;

	if (last != NULL)
		array_push_back(&sender->sent, &last);
	timeout_remove(&sender->to_record);
	if (array_count(&sender->sent) == 0)
		return status;
	T_BEGIN {
		t_array_init(&jobs, array_count(&sender->sent));
		array_foreach_elem(&sender->sent, job) {
			if (prev != NULL && prev->box != NULL &&
			    strcmp(prev->vname, job->vname) == 0) {
				/* the instance the job before opened */
				job->box = prev->box;
				job->own_box = FALSE;
			} else {
				job->box = readreceipt_sender_open(sender,
					job->vname, &job->own_box);
			}
			/* else the claim turns stale and the receipt is
			   tried again */
			if (job->box != NULL)
				array_push_back(&jobs, &job);
			prev = job;
		}
		if (array_count(&jobs) > 0) {
			readreceipt_jobs_record(array_front(&jobs),
						array_count(&jobs));
		}
		array_foreach_elem(&jobs, job)
			readreceipt_job_emit_result(job);
	} T_END;
	array_foreach_modifiable(&sender->sent, jobp)
		readreceipt_job_free(jobp);
	array_clear(&sender->sent);
	return status;
}

/* How many milliseconds the record of job, which the relay accepted, may
   wait to be marked done with those of the receipts after it (see
   READRECEIPT_SENDER_RECORD_DELAY_MSECS), 0 when it is marked at once.
   The hourly limit must leave room for it and for every receipt not yet
   counted. */
static unsigned int
readreceipt_sender_record_delay(struct readreceipt_sender *sender,
				const struct readreceipt_job *job)
{
	unsigned int max_per_hour = sender->ruser->set->max_per_hour;
	unsigned int uncounted = array_count(&sender->sent) + 1;
	const struct timeval *first;
	long long waited;

	if (job->status != 1 || uncounted >= READRECEIPT_SENDER_MAX_CLAIMS)
		return 0;
	first = array_count(&sender->sent) > 0 ?
		&(*array_front(&sender->sent))->claimed_at : &job->claimed_at;
	waited = timeval_diff_msecs(&ioloop_timeval, first);
	if (waited >= READRECEIPT_SENDER_RECORD_DEFER_MSECS)
		return 0;
	if (max_per_hour != 0 &&
	    (max_per_hour <= uncounted ||
	     readreceipt_rate_check(sender->user, max_per_hour - uncounted,
				    ioloop_time) == 0))
		return 0;
	return I_MIN(READRECEIPT_SENDER_RECORD_DELAY_MSECS,
		     READRECEIPT_SENDER_RECORD_DEFER_MSECS - waited);
}

static void readreceipt_sender_record_sent(struct readreceipt_sender *sender);

static void readreceipt_sender_record_timeout(struct readreceipt_sender *sender)
{
	if (sender->job != NULL) {
		/* the receipt at the relay keeps the connection */
		(void)readreceipt_sender_record(sender, NULL);
	} else {
		readreceipt_sender_record_sent(sender);
	}
}

static void readreceipt_sender_job_done(struct readreceipt_sender *sender)
{
	struct readreceipt_job *job = sender->job;
	unsigned int delay;
	int status;

	sender->job = NULL;
	if (job->send != NULL)
		readreceipt_send_abort(&job->send);
	delay = readreceipt_sender_record_delay(sender, job);
	if (delay > 0) {
		/* the connection stays this sender's for the next one */
		array_push_back(&sender->sent, &job);
		if (sender->to_record == NULL) {
			sender->to_record = timeout_add(delay,
				readreceipt_sender_record_timeout, sender);
		}
		readreceipt_sender_kick(sender);
		return;
	}
	readreceipt_sender_active = NULL;
	status = readreceipt_sender_record(sender, job);
	if (status == -1) {
		/* a batch stops at the first temporary failure */
		readreceipt_sender_retry(sender,
					 READRECEIPT_SENDER_RETRY_SECS,
					 READRECEIPT_RECORD_WAIT_RETRY);
	} else {
		readreceipt_sender_kick(sender);
	}
	readreceipt_sender_wake_others();
}

static void
readreceipt_sender_job_callback(int status, const char *error,
				struct readreceipt_job *job)
{
	job->status = status;
	job->error = p_strdup(job->pool, error);
	readreceipt_sender_job_done(job->sender);
}

static void readreceipt_sender_item_free(struct readreceipt_sender_item *item)
{
	i_free(item->vname);
	if (item->claim_pool != NULL)
		pool_unref(&item->claim_pool);
	item->claim = NULL;
}

/* The job takes over what the decision claimed and built, with the
   item's pool that holds it. */
static void
readreceipt_job_take_claim(struct readreceipt_job *job,
			   struct readreceipt_sender_item *item)
{
	const struct readreceipt_claim *claim = item->claim;

	job->claim_pool = item->claim_pool;
	job->claim = claim;
	item->claim_pool = NULL;
	item->claim = NULL;
	job->trigger = claim->trigger;
	job->reason = claim->reason;
	job->message_id = claim->message_id;
	job->recipient = claim->recipient;
	job->mdn = claim->mdn;
	job->recipients = claim->recipients;
}

static bool
readreceipt_sender_pop(struct readreceipt_sender *sender,
		       struct readreceipt_sender_item *item_r)
{
	if (array_count(&sender->queue) == 0)
		return FALSE;
	*item_r = *array_front(&sender->queue);
	array_pop_front(&sender->queue);
	return TRUE;
}

/* The job of the next queued receipt whose mailbox opens, or NULL when
   the queue is empty. */
static struct readreceipt_job *
readreceipt_sender_next_job(struct readreceipt_sender *sender)
{
	struct readreceipt_sender_item item;
	struct readreceipt_job *job;
	struct mailbox *box;
	bool own_box;

	while (readreceipt_sender_pop(sender, &item)) {
		box = readreceipt_sender_open(sender, item.vname, &own_box);
		if (box == NULL) {
			/* a claim among them turns stale and is retried */
			readreceipt_sender_item_free(&item);
			continue;
		}
		job = readreceipt_job_create(box, own_box, item.uid);
		job->first = item.first;
		if (item.claim != NULL)
			readreceipt_job_take_claim(job, &item);
		readreceipt_sender_item_free(&item);
		return job;
	}
	return NULL;
}

static void readreceipt_sender_scan(struct readreceipt_sender *sender);

/* The sender has nothing more to send now: what it sent is recorded, and
   the connection is free for the process' other sessions, which found it
   taken while the records waited. */
static void readreceipt_sender_record_sent(struct readreceipt_sender *sender)
{
	bool waited = array_count(&sender->sent) > 0;

	if (readreceipt_sender_active == sender)
		readreceipt_sender_active = NULL;
	(void)readreceipt_sender_record(sender, NULL);
	if (waited)
		readreceipt_sender_wake_others();
}

/* Start the next owed receipt. */
static void readreceipt_sender_run(struct readreceipt_sender *sender)
{
	enum readreceipt_job_start start;
	struct readreceipt_job *job;
	const char *error;

	timeout_remove(&sender->to_run);
	if (sender->job != NULL || (readreceipt_sender_active != NULL &&
				    readreceipt_sender_active != sender))
		return;
	if (sender->scan)
		readreceipt_sender_scan(sender);
	readreceipt_sender_active = sender;

	while ((job = readreceipt_sender_next_job(sender)) != NULL) {
		job->sender = sender;
		T_BEGIN {
			start = readreceipt_job_start(job, &error);
			if (start == READRECEIPT_JOB_ERROR) {
				e_error(sender->ruser->event, "Failed to "
					"send the receipt of UID %u in %s: "
					"%s", job->uid, job->vname, error);
			}
		} T_END;
		if (start != READRECEIPT_JOB_READY) {
			readreceipt_job_free(&job);
			if (start == READRECEIPT_JOB_SKIP)
				continue;
			readreceipt_sender_record_sent(sender);
			if (start == READRECEIPT_JOB_RATE_LIMITED) {
				readreceipt_sender_retry(sender,
					READRECEIPT_SENDER_RATE_RETRY_SECS,
					READRECEIPT_RECORD_WAIT_RATE_LIMITED);
			} else {
				readreceipt_sender_retry(sender,
					READRECEIPT_SENDER_RETRY_SECS,
					READRECEIPT_RECORD_WAIT_RETRY);
			}
			return;
		}
		sender->job = job;
		readreceipt_job_release_box(job);
		if (readreceipt_sender_relay == NULL)
			readreceipt_sender_relay = readreceipt_relay_create();
		job->send = readreceipt_send_start(readreceipt_sender_relay,
			sender->user,
			sender->ruser->set, sender->ruser->smtp_set,
			&job->recipients, job->mdn,
			(readreceipt_send_callback_t *)
			readreceipt_sender_job_callback, job);
		return;
	}
	if (sender->to_record != NULL) {
		/* the records of the receipts sent wait for the ones that
		   may follow them; the connection stays this sender's */
		return;
	}
	readreceipt_sender_record_sent(sender);
}

static void readreceipt_sender_kick(struct readreceipt_sender *sender)
{
	/* after a temporary failure the session waits for its retry: a
	   batch stops at the first one */
	if (sender->to_run == NULL && sender->job == NULL &&
	    sender->to_retry == NULL)
		sender->to_run = timeout_add_short(0, readreceipt_sender_run,
						   sender);
}

static void
readreceipt_sender_push(struct readreceipt_sender *sender, const char *vname,
			uint32_t uid, bool first)
{
	struct readreceipt_sender_item *item;

	array_foreach_modifiable(&sender->queue, item) {
		if (item->uid == uid && strcmp(item->vname, vname) == 0)
			return;
	}
	item = array_append_space(&sender->queue);
	item->vname = i_strdup(vname);
	item->uid = uid;
	item->first = first;
}

/* Queue what the mailbox guid holds owed; forget a mailbox that holds
   none. */
static void
readreceipt_sender_scan_box(struct readreceipt_sender *sender,
			    const guid_128_t guid)
{
	struct readreceipt_user *ruser = sender->ruser;
	struct mail_namespace *ns;
	ARRAY_TYPE(uint32_t) uids;
	struct file_lock *lock;
	struct mailbox *box = NULL;
	const char *error;
	uint32_t uid;
	bool prev_busy = ruser->busy;

	ruser->busy = TRUE;
	for (ns = sender->user->namespaces; ns != NULL; ns = ns->next) {
		if (ns->type != MAIL_NAMESPACE_TYPE_PRIVATE)
			continue;
		box = mailbox_alloc_guid(ns->list, guid, 0);
		if (mailbox_open(box) == 0)
			break;
		mailbox_free(&box);
	}
	ruser->busy = prev_busy;

	t_array_init(&uids, 8);
	if (box != NULL)
		readreceipt_outbox_owed_uids(box, &uids);
	if (array_count(&uids) == 0) {
		/* deleted, or nothing owed any more */
		if (readreceipt_outbox_lock(sender->user, &lock, &error) > 0) {
			if (box != NULL)
				readreceipt_outbox_owed_uids(box, &uids);
			if (array_count(&uids) == 0 &&
			    readreceipt_outbox_hint_remove(sender->user, guid,
							   &error) < 0)
				e_error(ruser->event, "%s", error);
			readreceipt_outbox_unlock(&lock);
		}
	}
	array_foreach_elem(&uids, uid)
		readreceipt_sender_push(sender, box->vname, uid, FALSE);
	if (box != NULL)
		mailbox_free(&box);
}

static void readreceipt_sender_scan(struct readreceipt_sender *sender)
{
	ARRAY_TYPE(guid_128) guids;
	const guid_128_t *guid;
	const char *error;

	sender->scan = FALSE;
	T_BEGIN {
		t_array_init(&guids, 8);
		if (readreceipt_outbox_hint_read(sender->user, &guids,
						 &error) < 0) {
			e_error(sender->ruser->event, "%s", error);
		}
		array_foreach(&guids, guid)
			readreceipt_sender_scan_box(sender, *guid);
	} T_END;
}

void readreceipt_sender_start(struct readreceipt_sender *sender)
{
	timeout_remove(&sender->to_retry);
	sender->scan = TRUE;
	readreceipt_sender_kick(sender);
}

bool readreceipt_sender_can_claim(const struct readreceipt_sender *sender)
{
	const struct readreceipt_sender_item *item;

	if (sender->to_retry != NULL || sender->scan ||
	    array_count(&sender->queue) >= READRECEIPT_SENDER_MAX_CLAIMS)
		return FALSE;
	/* behind a receipt that is only owed, a claim would wait for its
	   lock, its read and its commit: it would not leave as built */
	array_foreach(&sender->queue, item) {
		if (item->claim == NULL)
			return FALSE;
	}
	return TRUE;
}

void readreceipt_sender_add_claims(struct readreceipt_sender *sender,
				   struct mailbox *box,
				   const ARRAY_TYPE(readreceipt_claim) *claims)
{
	const struct readreceipt_claim *claim;
	struct readreceipt_sender_item *item;
	struct readreceipt_claim *copy;
	pool_t pool;

	array_foreach(claims, claim) {
		pool = pool_alloconly_create("readreceipt claim",
					     str_len(claim->mdn) + 1024);
		copy = p_new(pool, struct readreceipt_claim, 1);
		copy->uid = claim->uid;
		copy->stamp = claim->stamp;
		copy->claimed_at = claim->claimed_at;
		copy->trigger = claim->trigger;
		copy->reason = p_strdup(pool, claim->reason);
		copy->message_id = p_strdup(pool, claim->message_id);
		copy->recipient = p_strdup(pool, claim->recipient);
		copy->mdn = str_new(pool, str_len(claim->mdn));
		str_append_str(copy->mdn, claim->mdn);
		readreceipt_receipt_copy_addrs(pool, &copy->recipients,
					       &claim->recipients);

		item = array_append_space(&sender->queue);
		item->vname = i_strdup(box->vname);
		item->uid = claim->uid;
		item->first = TRUE;
		item->claim_pool = pool;
		item->claim = copy;
	}
	if (array_count(claims) > 0)
		readreceipt_sender_kick(sender);
}

void readreceipt_sender_add(struct readreceipt_sender *sender,
			    struct mailbox *box,
			    const ARRAY_TYPE(uint32_t) *uids)
{
	uint32_t uid;

	array_foreach_elem(uids, uid)
		readreceipt_sender_push(sender, box->vname, uid, TRUE);
	if (array_count(uids) > 0)
		readreceipt_sender_kick(sender);
}

struct readreceipt_sender *readreceipt_sender_create(struct mail_user *user)
{
	struct readreceipt_sender *sender;

	sender = i_new(struct readreceipt_sender, 1);
	sender->user = user;
	sender->ruser = readreceipt_user_get(user);
	i_array_init(&sender->queue, 4);
	i_array_init(&sender->session_boxes, 2);
	i_array_init(&sender->sent, READRECEIPT_SENDER_MAX_CLAIMS);
	if (!array_is_created(&readreceipt_senders))
		i_array_init(&readreceipt_senders, 4);
	array_push_back(&readreceipt_senders, &sender);
	return sender;
}

/* What the session still owes goes out now, within the submission
   timeout; the rest waits for the next session or a flush. Returns what
   stopped it: as readreceipt_job_run_sync(), 1 if nothing did. */
static int readreceipt_sender_drain(struct readreceipt_sender *sender)
{
	unsigned int timeout_secs =
		sender->ruser->set->submission_timeout_secs;
	struct readreceipt_job *job;
	const char *error;
	time_t deadline;
	int ret = 1;

	io_loop_time_refresh();
	deadline = ioloop_time + timeout_secs;
	while (ioloop_time < deadline &&
	       (job = readreceipt_sender_next_job(sender)) != NULL) {
		ret = readreceipt_job_run_sync(job, &error);
		if (ret == -3) {
			e_error(sender->ruser->event, "Failed to send the "
				"receipt of UID %u in %s: %s", job->uid,
				job->vname, error);
		}
		readreceipt_job_free(&job);
		if (ret < 0)
			break;
		io_loop_time_refresh();
	}
	return ret;
}

void readreceipt_sender_destroy(struct readreceipt_sender **_sender)
{
	struct readreceipt_sender *sender = *_sender;
	struct readreceipt_sender_item *item;
	struct readreceipt_sender *const *senders;
	unsigned int i, count;
	bool relay_failing = sender->to_retry != NULL;
	int drained = 1;

	*_sender = NULL;
	timeout_remove(&sender->to_run);
	timeout_remove(&sender->to_retry);
	/* sent before the one that may be at the relay now */
	(void)readreceipt_sender_record(sender, NULL);
	if (readreceipt_sender_active == sender)
		readreceipt_sender_active = NULL;
	if (sender->job != NULL) {
		/* the session ends while the relay has not answered: its
		   answer is awaited (within the timeout the send started
		   with), since a relay that has the whole message may keep
		   it, and sending it again would be a duplicate */
		struct readreceipt_job *job = sender->job;
		const char *error;

		sender->job = NULL;
		T_BEGIN {
			switch (readreceipt_send_end(&job->send, &job->status,
						     &error)) {
			case READRECEIPT_SEND_END_RESULT:
				job->error = p_strdup(job->pool, error);
				break;
			case READRECEIPT_SEND_END_NOT_STARTED:
				/* tried once more below */
				job->status = READRECEIPT_JOB_NOT_STARTED;
				readreceipt_sender_push(sender, job->vname,
							job->uid, job->first);
				break;
			case READRECEIPT_SEND_END_UNKNOWN:
				job->status = READRECEIPT_JOB_UNKNOWN;
				e_warning(sender->ruser->event, "The session "
					"ended before the relay answered for "
					"the receipt of UID %u in %s: it is "
					"tried again after "
					"readreceipt_submission_timeout",
					job->uid, job->vname);
				break;
			}
			if (job->status != READRECEIPT_JOB_UNKNOWN) {
				job->box = readreceipt_sender_open(
					sender, job->vname, &job->own_box);
				if (job->box != NULL)
					(void)readreceipt_job_finish(job);
			}
		} T_END;
		if (job->status == -1)
			relay_failing = TRUE;
		readreceipt_job_free(&job);
	}
	if (readreceipt_sender_relay != NULL) {
		readreceipt_relay_forget_user(readreceipt_sender_relay,
					      sender->user);
	}
	/* a relay that already failed in this session gets no wait at
	   logout: what is owed stays for the next session or a flush */
	if (!relay_failing)
		drained = readreceipt_sender_drain(sender);
	readreceipt_sender_release_claims(sender,
		drained == -2 ? READRECEIPT_RECORD_WAIT_RATE_LIMITED :
		relay_failing || drained < 0 ? READRECEIPT_RECORD_WAIT_RETRY :
		READRECEIPT_RECORD_WAIT_NEW);
	array_foreach_modifiable(&sender->queue, item)
		readreceipt_sender_item_free(item);
	array_free(&sender->queue);
	array_free(&sender->session_boxes);
	array_free(&sender->sent);
	senders = array_get(&readreceipt_senders, &count);
	for (i = 0; i < count; i++) {
		if (senders[i] == sender) {
			array_delete(&readreceipt_senders, i, 1);
			break;
		}
	}
	if (array_count(&readreceipt_senders) == 0) {
		array_free(&readreceipt_senders);
		if (readreceipt_sender_relay != NULL)
			readreceipt_relay_free(&readreceipt_sender_relay);
	} else
		readreceipt_sender_wake_others();
	i_free(sender);
}

void readreceipt_sender_box_allocated(struct readreceipt_sender *sender,
				      struct mailbox *box)
{
	array_push_back(&sender->session_boxes, &box);
}

void readreceipt_sender_box_freed(struct readreceipt_sender *sender,
				  struct mailbox *box)
{
	struct mailbox *const *boxes;
	unsigned int i, count;

	boxes = array_get(&sender->session_boxes, &count);
	for (i = 0; i < count; i++) {
		if (boxes[i] == box) {
			array_delete(&sender->session_boxes, i, 1);
			break;
		}
	}
	/* a job holds a mailbox only while it runs, never across the
	   ioloop, so none can hold this one now */
	i_assert(sender->job == NULL || sender->job->box != box);
}

/* ---- doveadm */

int readreceipt_sender_send_uid(struct mailbox *box, uint32_t uid,
				const char **error_r)
{
	struct readreceipt_job *job;
	int ret;

	job = readreceipt_job_create(box, FALSE, uid);
	/* doveadm readreceipt send: the answer's own first try */
	job->first = TRUE;
	ret = readreceipt_job_run_sync(job, error_r);
	readreceipt_job_free(&job);
	return ret > 0 ? 1 : -1;
}

int readreceipt_sender_flush_box(struct mailbox *box, unsigned int *sent_r,
				 const char **error_r)
{
	ARRAY_TYPE(uint32_t) uids;
	struct readreceipt_job *job;
	uint32_t uid;
	int ret = 0;

	*sent_r = 0;
	t_array_init(&uids, 8);
	readreceipt_outbox_owed_uids(box, &uids);
	array_foreach_elem(&uids, uid) {
		job = readreceipt_job_create(box, FALSE, uid);
		ret = readreceipt_job_run_sync(job, error_r);
		if (ret > 0 && job->status == 1)
			(*sent_r)++;
		readreceipt_job_free(&job);
		if (ret < 0) {
			/* a batch stops at the first temporary failure */
			if (*error_r == NULL)
				*error_r = "Temporary failure";
			return -1;
		}
	}
	return 0;
}

int readreceipt_sender_list_box(struct mailbox *box, pool_t pool,
				ARRAY_TYPE(readreceipt_pending_entry) *entries)
{
	struct readreceipt_user *ruser =
		readreceipt_user_get(box->storage->user);
	struct mailbox_transaction_context *t;
	struct readreceipt_message_info minfo;
	struct readreceipt_verdict verdict;
	struct readreceipt_pending_entry *entry;
	struct readreceipt_record rec;
	ARRAY_TYPE(uint32_t) uids;
	struct mail *mail;
	uint32_t uid;

	i_assert(ruser != NULL);
	t_array_init(&uids, 8);
	readreceipt_outbox_owed_uids(box, &uids);
	if (array_count(&uids) == 0)
		return 0;

	t = mailbox_transaction_begin(box,
				      MAILBOX_TRANSACTION_FLAG_NO_CACHE_DEC,
				      "readreceipt list");
	mail = mail_alloc(t, 0, NULL);
	array_foreach_elem(&uids, uid) T_BEGIN {
		if (readreceipt_outbox_get_fresh(box, uid, &rec) > 0 &&
		    readreceipt_record_is_owed(&rec) &&
		    mail_set_uid(mail, uid)) {
			(void)readreceipt_message_read(mail, &minfo);
			readreceipt_policy_decide(
				readreceipt_user_policy(ruser), &minfo.msg,
				FALSE, TRUE, pool_datastack_create(),
				&verdict);
			entry = array_append_space(entries);
			entry->uid = uid;
			readreceipt_receipt_copy_addrs(pool,
				&entry->pending.to, &verdict.recipients);
			entry->pending.subject = p_strdup(pool,
				minfo.subject == NULL ? "" :
				readreceipt_mdn_clean_subject(minfo.subject));
			entry->pending.message_id = p_strdup(pool,
				minfo.message_id == NULL ? "" :
				minfo.message_id);
			entry->pending.reason = readreceipt_record_wait_reason(
				&rec, ioloop_time,
				ruser->set->submission_timeout_secs);
			entry->pending.since = rec.stamp;
		}
	} T_END;
	mail_free(&mail);
	mailbox_transaction_rollback(&t);
	return array_count(&uids);
}
