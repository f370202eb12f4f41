#ifndef EXT_READRECEIPT_COMMON_H
#define EXT_READRECEIPT_COMMON_H

/* The Sieve extension vnd.readreceipt (SPEC §11):
     readreceipt "never";       the stored message gets $MDNSent
     readreceipt "ask";         the stored message gets $MDNAsk
     readreceipt_requested      test: the message asks for a receipt
                                that the storage module would consider */

#include "sieve-common.h"

struct mail;
struct mail_user;

#define EXT_READRECEIPT_NAME "vnd.readreceipt"

/* The rules, from none to the tightest: when a script (or a sieve_before
   and a personal script together) give several, the tightest wins. */
enum ext_readreceipt_rule {
	EXT_READRECEIPT_RULE_NONE = 0,
	EXT_READRECEIPT_RULE_ASK,
	EXT_READRECEIPT_RULE_NEVER,
};
#define EXT_READRECEIPT_RULE_MAX EXT_READRECEIPT_RULE_NEVER

enum ext_readreceipt_opcode {
	EXT_READRECEIPT_OPERATION_READRECEIPT = 0,
	EXT_READRECEIPT_OPERATION_REQUESTED,
};

extern const struct sieve_extension_def readreceipt_extension;
extern const struct sieve_interpreter_extension
	readreceipt_interpreter_extension;

extern const struct sieve_command_def cmd_readreceipt;
extern const struct sieve_command_def tst_readreceipt_requested;
extern const struct sieve_operation_def readreceipt_operation;
extern const struct sieve_operation_def readreceipt_requested_operation;

/* "never" / "ask" */
const char *ext_readreceipt_rule_name(enum ext_readreceipt_rule rule);
bool ext_readreceipt_rule_parse(const char *name,
				enum ext_readreceipt_rule *rule_r);
/* the keyword that the rule gives the stored message */
const char *ext_readreceipt_rule_keyword(enum ext_readreceipt_rule rule);

/* Record rule for the message being filtered (the tightest one wins). */
void ext_readreceipt_result_add_rule(const struct sieve_runtime_env *renv,
				     const struct sieve_extension *ext,
				     enum ext_readreceipt_rule rule);

/*
 * The storage module (lib20_readreceipt_plugin.so), reached through the
 * symbols it exports. Sieve tools (sievec) run without it; then these
 * report it unavailable instead of failing to load.
 */

/* Returns 1 and sets requested_r, or 0 when the storage module is not
   loaded for user. */
int ext_readreceipt_storage_requested(struct mail_user *user,
				      struct mail *mail, bool *requested_r);
/* The "never" rule's event for a delivered message that asked for a
   receipt (trigger delivery, reason sieve). */
void ext_readreceipt_storage_never(struct mail_user *user, struct mail *mail,
				   const char *mailbox);

#endif
