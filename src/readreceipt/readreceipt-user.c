/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "hostpid.h"
#include "mail-user.h"
#include "mail-namespace.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"
#include "readreceipt-event.h"
#include "readreceipt-queue.h"
#include "readreceipt-sender.h"
#include "readreceipt-refresh.h"
#include "readreceipt-user.h"

struct readreceipt_user_module readreceipt_user_module =
	MODULE_CONTEXT_INIT(&mail_user_module_register);

static enum readreceipt_session_kind
readreceipt_session_kind(struct mail_user *user)
{
	/* Only a user opening mail can trigger a receipt: delivery, doveadm,
	   dsync and indexing never do (SPEC §3). LMTP also creates an
	   internal user for the raw message (autocreated): never the
	   recipient. */
	if (user->autocreated || user->service == NULL)
		return READRECEIPT_SESSION_NONE;
	if (strcmp(user->service, "imap") == 0)
		return READRECEIPT_SESSION_IMAP;
	if (strcmp(user->service, "pop3") == 0)
		return READRECEIPT_SESSION_POP3;
	if (strcmp(user->service, "lmtp") == 0 ||
	    strcmp(user->service, "lda") == 0)
		return READRECEIPT_SESSION_DELIVERY;
	if (strcmp(user->service, "submission") == 0)
		return READRECEIPT_SESSION_SUBMISSION;
	return READRECEIPT_SESSION_NONE;
}

static void readreceipt_user_deinit_pre(struct mail_user *user)
{
	struct readreceipt_user *ruser = READRECEIPT_USER_CONTEXT(user);

	i_assert(ruser != NULL);
	/* while the namespaces are still there: what the session owes
	   leaves now (bounded) or waits for the next one */
	if (ruser->sender != NULL)
		readreceipt_sender_destroy(&ruser->sender);
	ruser->module_ctx.super.deinit_pre(user);
}

static void readreceipt_user_deinit(struct mail_user *user)
{
	struct readreceipt_user *ruser = READRECEIPT_USER_CONTEXT(user);

	i_assert(ruser != NULL);
	readreceipt_refresh_deinit(ruser);
	event_unref(&ruser->event);
	ruser->module_ctx.super.deinit(user);
}

void readreceipt_user_created(struct mail_user *user)
{
	struct mail_user_vfuncs *v = user->vlast;
	struct readreceipt_user *ruser;

	ruser = p_new(user->pool, struct readreceipt_user, 1);
	ruser->module_ctx.super = *v;
	user->vlast = &ruser->module_ctx.super;
	v->deinit = readreceipt_user_deinit;
	v->deinit_pre = readreceipt_user_deinit_pre;

	ruser->event = event_create(user->event);
	event_add_category(ruser->event, &event_category_readreceipt);
	event_set_append_log_prefix(ruser->event, "readreceipt: ");
	ruser->session = readreceipt_session_kind(user);

	/* An invalid setting must never lock the user out: the settings
	   come back with mode disabled and the error is logged once per
	   session of the user's own (each delivery's decision names it
	   instead), the mail session goes on. Settings that cannot be read
	   at all count as invalid. */
	ruser->user = user;
	readreceipt_refresh_init(ruser);
	if (ruser->set->error != NULL &&
	    ruser->session != READRECEIPT_SESSION_NONE &&
	    ruser->session != READRECEIPT_SESSION_DELIVERY) {
		e_error(ruser->event,
			"Invalid settings, receipts are disabled for this "
			"user: %s", ruser->set->error);
	}
	ruser->queue_available = readreceipt_queue_available(user);
	MODULE_CONTEXT_SET(user, readreceipt_user_module, ruser);
	/* Only sessions that open mail and doveadm (send, flush) send:
	   deliveries (one user per recipient) need no relay settings.
	   Dovecot 2.3 has no submission settings in doveadm: NULL there. */
	if (readreceipt_user_opens_mail(ruser) ||
	    (user->service != NULL && strcmp(user->service, "doveadm") == 0)) {
		ruser->smtp_set = readreceipt_compat_smtp_submit_settings(
			user, user->pool);
	}
	if (readreceipt_user_opens_mail(ruser))
		ruser->sender = readreceipt_sender_create(user);
}

void readreceipt_user_namespaces_added(struct mail_namespace *namespaces)
{
	struct readreceipt_user *ruser =
		READRECEIPT_USER_CONTEXT(namespaces->user);

	/* what earlier sessions left owed goes out from the ioloop, after
	   login and outside any command */
	if (ruser != NULL && ruser->sender != NULL)
		readreceipt_sender_start(ruser->sender);
}

struct readreceipt_user *readreceipt_user_get(struct mail_user *user)
{
	return READRECEIPT_USER_CONTEXT(user);
}

bool readreceipt_user_opens_mail(const struct readreceipt_user *ruser)
{
	return ruser->session == READRECEIPT_SESSION_IMAP ||
		ruser->session == READRECEIPT_SESSION_POP3;
}
