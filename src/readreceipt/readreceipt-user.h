#ifndef READRECEIPT_USER_H
#define READRECEIPT_USER_H

#include "module-context.h"
#include "mail-user.h"
#include "readreceipt-policy-state.h"

struct readreceipt_compat_settings;
struct readreceipt_settings;
struct readreceipt_sender;
struct smtp_submit_settings;

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

/* The IMAP command that is running, as the imap module reports it. */
enum readreceipt_imap_command {
	/* not known: no imap module, or outside a command */
	READRECEIPT_IMAP_COMMAND_UNKNOWN = 0,
	/* FETCH / UID FETCH: \Seen set implicitly by a body fetch */
	READRECEIPT_IMAP_COMMAND_FETCH,
	/* STORE / UID STORE */
	READRECEIPT_IMAP_COMMAND_STORE,
	/* any other command (COPY, MOVE, APPEND, ...): never an "open" */
	READRECEIPT_IMAP_COMMAND_OTHER,
};

struct readreceipt_user {
	union mail_user_module_context module_ctx;
	struct mail_user *user;

	/* parent of every event this module emits for the user */
	struct event *event;
	/* the readreceipt_* settings as configured for the user */
	struct readreceipt_compat_settings *compat_set;
	/* set when compat_set could not be read (receipts disabled) */
	const char *compat_read_error;
	/* The settings decisions are taken on: read through
	   readreceipt_user_policy(), which reads them again when they are
	   older than readreceipt_policy_refresh (readreceipt-refresh.c).
	   set and policy live in policy_pool; the generation before stays
	   until the next one. */
	const struct readreceipt_settings *set;
	struct readreceipt_policy_state *policy;
	pool_t policy_pool, policy_old_pool;
	/* the userdb fields set was computed from */
	const char *const *policy_fields;
	/* when set was computed */
	time_t policy_time;
	/* set was compared with the state file (readreceipt-policy-state) */
	bool policy_synced;
	/* the state file, and what it was when this session last saw it */
	const char *state_path;
	time_t state_checked;
	struct readreceipt_policy_stamp state_stamp;
	enum readreceipt_session_kind session;

	/* a client that shows its own receipt prompt (set by the imap
	   module; SPEC §4 step 4) */
	bool session_can_prompt;
	/* set by the imap module around each command */
	enum readreceipt_imap_command imap_command;
	/* guards against reacting to the module's own transactions */
	bool busy;
	/* the user has a mail_attribute_dict: entries can wait */
	bool queue_available;
	/* "no attribute dict" was logged in this session */
	bool no_dict_logged;
	/* Dovecot's submission settings of this service, or NULL */
	const struct smtp_submit_settings *smtp_set;
	/* sends what the session's commands made owed (imap, pop3) */
	struct readreceipt_sender *sender;
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
void readreceipt_user_namespaces_added(struct mail_namespace *namespaces);

#endif
