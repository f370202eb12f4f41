#ifndef READRECEIPT_REFRESH_H
#define READRECEIPT_REFRESH_H

/* The user's effective policy, never older than readreceipt_policy_refresh
   when a decision is taken (SPEC §15). */

struct readreceipt_user;
struct readreceipt_settings;

/* When this process read its configuration, in microseconds (set as the
   module is loaded, which Dovecot does right after). */
extern uint64_t readreceipt_config_usecs;

/* Compute the user's settings while the user is created (the userdb
   fields of the login, this process' configuration). */
void readreceipt_refresh_init(struct readreceipt_user *ruser);
void readreceipt_refresh_deinit(struct readreceipt_user *ruser);
/* Free what the process keeps (the module is unloaded). */
void readreceipt_refresh_deinit_process(void);

/* The settings a decision is taken on: read again first (userdb lookup,
   and the configured values of a newer process) when they are older than
   readreceipt_policy_refresh or "doveadm readreceipt refresh" asked for it.
   A change is recorded once (readreceipt_policy_changed). */
const struct readreceipt_settings *
readreceipt_user_policy(struct readreceipt_user *ruser);

/* doveadm: record the policy this process computed as seen (emitting the
   change events), and with apply ask open sessions to read it again at
   their next decision. *seen_r is when the current policy was first seen.
   Returns 0, or -1 with *error_r. */
int readreceipt_refresh_sync(struct readreceipt_user *ruser, bool apply,
			     time_t *seen_r, const char **error_r);

#endif
