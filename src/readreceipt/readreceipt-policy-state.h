#ifndef READRECEIPT_POLICY_STATE_H
#define READRECEIPT_POLICY_STATE_H

#include <sys/stat.h>

/* The user's policy as the module last saw it (SPEC §15): one small file
   beside the outbox, so that a change is told once, whichever process
   sees it first. */

#define READRECEIPT_POLICY_STATE_FNAME "dovecot-readreceipt.policy"
/* never read more of the file than this */
#define READRECEIPT_POLICY_STATE_MAX (64 * 1024)

/* where a value comes from */
#define READRECEIPT_SOURCE_DEFAULT "default"
#define READRECEIPT_SOURCE_CONFIG "config"
#define READRECEIPT_SOURCE_USERDB "userdb"

struct readreceipt_policy_entry {
	const char *name;
	/* as readreceipt_settings_value() writes it */
	const char *value;
	/* READRECEIPT_SOURCE_* */
	const char *source;
};
ARRAY_DEFINE_TYPE(readreceipt_policy_entry, struct readreceipt_policy_entry);

struct readreceipt_policy_state {
	/* when this policy was first seen */
	time_t seen;
	/* when the process that wrote it read its configuration (UNIX time
	   in microseconds): a process that read an older one takes the
	   configured values from here */
	uint64_t config_usecs;
	/* when "doveadm readreceipt refresh" last asked open sessions to
	   read the policy again; 0 = never */
	time_t applied;
	/* why the policy is invalid (receipts disabled), or NULL */
	const char *error;
	ARRAY_TYPE(readreceipt_policy_entry) entries;
};

/* Which version of the file a process saw: every rewrite renames a new
   file into place. */
struct readreceipt_policy_stamp {
	ino_t ino;
	time_t mtime;
	unsigned long mtime_nsec;
	off_t size;
};

void readreceipt_policy_stamp_get(struct readreceipt_policy_stamp *stamp_r,
				  const struct stat *st);
/* TRUE if st is the file that stamp was taken of. */
bool readreceipt_policy_stamp_is(const struct readreceipt_policy_stamp *stamp,
				 const struct stat *st);

void readreceipt_policy_state_init(struct readreceipt_policy_state *state,
				   pool_t pool);
/* Parse the file's content. Lines that cannot be read are skipped: the
   next change of the policy writes the file anew. */
void readreceipt_policy_state_parse(struct readreceipt_policy_state *state,
				    pool_t pool, const char *data);
void readreceipt_policy_state_write(const struct readreceipt_policy_state *state,
				    string_t *dest);

const struct readreceipt_policy_entry *
readreceipt_policy_state_find(const struct readreceipt_policy_state *state,
			      const char *name);
/* Add or replace the entry of name. */
void readreceipt_policy_state_set(struct readreceipt_policy_state *state,
				  pool_t pool, const char *name,
				  const char *value, const char *source);

/* The entries of new_state whose value differs from old_state's (an entry
   old_state lacks counts as changed), and a change of validity. */
void readreceipt_policy_state_diff(const struct readreceipt_policy_state *old_state,
				   const struct readreceipt_policy_state *new_state,
				   ARRAY_TYPE(const_string) *changed_names,
				   bool *validity_changed_r);

#endif
