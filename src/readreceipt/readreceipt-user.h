#ifndef READRECEIPT_USER_H
#define READRECEIPT_USER_H

#include "module-context.h"
#include "mail-user.h"

struct readreceipt_settings;

#define READRECEIPT_USER_CONTEXT(obj) \
	MODULE_CONTEXT(obj, readreceipt_user_module)

enum readreceipt_session_kind {
	/* the module does nothing (doveadm, indexer, internal users, ...) */
	READRECEIPT_SESSION_NONE = 0,
	/* opening mail triggers receipts */
	READRECEIPT_SESSION_IMAP,
	READRECEIPT_SESSION_POP3,
	/* LMTP and LDA: receipts are never triggered, but messages whose
	   receipt is forbidden are saved with $MDNSent */
	READRECEIPT_SESSION_DELIVERY,
	/* the submission module judges what the user's client sends */
	READRECEIPT_SESSION_SUBMISSION,
};

struct readreceipt_user {
	union mail_user_module_context module_ctx;

	/* parent of every event this module emits for the user */
	struct event *event;
	const struct readreceipt_settings *set;
	enum readreceipt_session_kind session;

	/* a client that shows its own receipt prompt (set by the imap
	   module; SPEC §4 step 4) */
	bool session_can_prompt;
	/* guards against reacting to the module's own transactions */
	bool busy;
};

extern MODULE_CONTEXT_DEFINE(readreceipt_user_module,
			     &mail_user_module_register);

/* Returns the module's user context, or NULL when the module is not loaded
   for this user. Exported for the sibling modules. */
struct readreceipt_user *readreceipt_user_get(struct mail_user *user);

/* TRUE if the session opens mail, so that \Seen changes may trigger
   receipts. */
bool readreceipt_user_opens_mail(const struct readreceipt_user *ruser);

void readreceipt_user_created(struct mail_user *user);

#endif
