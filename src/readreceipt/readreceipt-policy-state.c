/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "strescape.h"
#include "readreceipt-policy-state.h"

/* File format: one record per line, fields tab-escaped (Dovecot's
   str_tabescape()):
     seen <TAB> unix time
     config <TAB> unix time in microseconds
     applied <TAB> unix time
     error <TAB> text
     set <TAB> name <TAB> source <TAB> value */

void readreceipt_policy_stamp_get(struct readreceipt_policy_stamp *stamp_r,
				  const struct stat *st)
{
	stamp_r->ino = st->st_ino;
	stamp_r->mtime = st->st_mtime;
	stamp_r->mtime_nsec = ST_MTIME_NSEC(*st);
	stamp_r->size = st->st_size;
}

bool readreceipt_policy_stamp_is(const struct readreceipt_policy_stamp *stamp,
				 const struct stat *st)
{
	return stamp->ino == st->st_ino && stamp->mtime == st->st_mtime &&
		stamp->mtime_nsec == ST_MTIME_NSEC(*st) &&
		stamp->size == st->st_size;
}

void readreceipt_policy_state_init(struct readreceipt_policy_state *state,
				   pool_t pool)
{
	i_zero(state);
	p_array_init(&state->entries, pool, 20);
}

static bool readreceipt_policy_state_time(const char *str, time_t *time_r)
{
	uint64_t t;

	if (str_to_uint64(str, &t) < 0 || t > INT32_MAX * 4ULL)
		return FALSE;
	*time_r = (time_t)t;
	return TRUE;
}

void readreceipt_policy_state_parse(struct readreceipt_policy_state *state,
				    pool_t pool, const char *data)
{
	const char *const *lines, *const *args;

	for (lines = t_strsplit(data, "\n"); *lines != NULL; lines++) {
		args = t_strsplit_tabescaped(*lines);
		if (args[0] == NULL || args[1] == NULL)
			continue;
		if (strcmp(args[0], "seen") == 0)
			(void)readreceipt_policy_state_time(args[1],
							    &state->seen);
		else if (strcmp(args[0], "config") == 0) {
			if (str_to_uint64(args[1], &state->config_usecs) < 0)
				state->config_usecs = 0;
		}
		else if (strcmp(args[0], "applied") == 0)
			(void)readreceipt_policy_state_time(args[1],
							    &state->applied);
		else if (strcmp(args[0], "error") == 0)
			state->error = p_strdup(pool, args[1]);
		else if (strcmp(args[0], "set") == 0 && args[2] != NULL &&
			 args[3] != NULL && args[4] == NULL) {
			readreceipt_policy_state_set(state, pool, args[1],
						     args[3], args[2]);
		}
	}
}

static void
readreceipt_policy_state_line(string_t *dest, const char *const *args)
{
	for (; *args != NULL; args++) {
		str_append_tabescaped(dest, *args);
		str_append_c(dest, args[1] == NULL ? '\n' : '\t');
	}
}

void readreceipt_policy_state_write(const struct readreceipt_policy_state *state,
				    string_t *dest)
{
	const struct readreceipt_policy_entry *entry;

	str_printfa(dest, "seen\t%lld\nconfig\t%llu\n",
		    (long long)state->seen,
		    (unsigned long long)state->config_usecs);
	if (state->applied != 0)
		str_printfa(dest, "applied\t%lld\n", (long long)state->applied);
	if (state->error != NULL) {
		readreceipt_policy_state_line(dest, (const char *const []){
			"error", state->error, NULL });
	}
	array_foreach(&state->entries, entry) {
		readreceipt_policy_state_line(dest, (const char *const []){
			"set", entry->name, entry->source, entry->value,
			NULL });
	}
}

const struct readreceipt_policy_entry *
readreceipt_policy_state_find(const struct readreceipt_policy_state *state,
			      const char *name)
{
	const struct readreceipt_policy_entry *entry;

	array_foreach(&state->entries, entry) {
		if (strcmp(entry->name, name) == 0)
			return entry;
	}
	return NULL;
}

void readreceipt_policy_state_set(struct readreceipt_policy_state *state,
				  pool_t pool, const char *name,
				  const char *value, const char *source)
{
	struct readreceipt_policy_entry *entry = NULL;
	unsigned int i, count = array_count(&state->entries);

	for (i = 0; i < count && entry == NULL; i++) {
		entry = array_idx_modifiable(&state->entries, i);
		if (strcmp(entry->name, name) != 0)
			entry = NULL;
	}
	if (entry == NULL) {
		entry = array_append_space(&state->entries);
		entry->name = p_strdup(pool, name);
	}
	entry->value = p_strdup(pool, value);
	entry->source = p_strdup(pool, source);
}

void readreceipt_policy_state_diff(const struct readreceipt_policy_state *old_state,
				   const struct readreceipt_policy_state *new_state,
				   ARRAY_TYPE(const_string) *changed_names,
				   bool *validity_changed_r)
{
	const struct readreceipt_policy_entry *entry, *old;

	array_foreach(&new_state->entries, entry) {
		old = readreceipt_policy_state_find(old_state, entry->name);
		if (old == NULL || strcmp(old->value, entry->value) != 0)
			array_push_back(changed_names, &entry->name);
	}
	*validity_changed_r = null_strcmp(old_state->error,
					  new_state->error) != 0;
}
