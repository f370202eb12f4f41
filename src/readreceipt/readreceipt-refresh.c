/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "ioloop.h"
#include "hostpid.h"
#include "file-dotlock.h"
#include "write-full.h"
#include "mail-user.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"
#include "readreceipt-event.h"
#include "readreceipt-outbox.h"
#include "readreceipt-policy-state.h"
#include "readreceipt-user.h"
#include "readreceipt-refresh.h"

#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

/* the source of a value this process read from its configuration, until
   it is told apart from a default (readreceipt_refresh_resolve()) */
#define READRECEIPT_SOURCE_PROCESS "process"
/* a pseudo setting name for a change of validity alone */
#define READRECEIPT_POLICY_VALIDITY "validity"

uint64_t readreceipt_config_usecs;

struct readreceipt_refresh_lookup {
	struct readreceipt_user *ruser;
	/* the userdb fields the values come from */
	const char *const *fields;
	/* fields is a lookup of this session, not the login's */
	bool fresh;
	/* the policy a process with a newer configuration wrote, or NULL */
	const struct readreceipt_policy_state *newer;
	/* each setting's source (READRECEIPT_SOURCE_*), by its index in
	   readreceipt_setting_names[], filled by the lookups; NULL: the
	   default */
	const char **sources;
	/* where the next lookup is expected: the parser looks the settings
	   up in their order */
	unsigned int next_idx;
};

static void
readreceipt_refresh_set_source(struct readreceipt_refresh_lookup *ctx,
			       const char *name, const char *source)
{
	int idx = ctx->next_idx;

	if (ctx->next_idx >= readreceipt_setting_count ||
	    strcmp(readreceipt_setting_names[idx], name) != 0) {
		if ((idx = readreceipt_setting_index(name)) < 0)
			return;
	}
	ctx->sources[idx] = source;
	ctx->next_idx = idx + 1;
}

static const char *readreceipt_refresh_lookup(const char *name, void *context)
{
	struct readreceipt_refresh_lookup *ctx = context;
	struct readreceipt_user *ruser = ctx->ruser;
	const struct readreceipt_policy_entry *entry;
	const char *value, *source;

	if (!ctx->fresh) {
		/* the login's values, as Dovecot applied them (a doveadm -o
		   wins over the userdb) */
		value = readreceipt_compat_setting(ruser->compat_set, name);
		source = value != NULL &&
			null_strcmp(readreceipt_userdb_fields_value(ctx->fields,
								   name),
				    value) == 0 ?
			READRECEIPT_SOURCE_USERDB : READRECEIPT_SOURCE_PROCESS;
	} else if ((value = readreceipt_userdb_fields_value(ctx->fields,
							   name)) != NULL) {
		source = READRECEIPT_SOURCE_USERDB;
	} else if (ctx->newer != NULL &&
		   (entry = readreceipt_policy_state_find(ctx->newer,
							  name)) != NULL &&
		   strcmp(entry->source, READRECEIPT_SOURCE_USERDB) != 0) {
		/* a process that read the configuration after this one
		   saw this value configured: the configuration changed */
		value = entry->value;
		source = entry->source;
	} else if (readreceipt_userdb_fields_value(ruser->user->userdb_fields,
						  name) != NULL) {
		/* The userdb set it at login and no longer does. This
		   process has the configured value only as the login's
		   userdb overrode it: the module's default applies (the
		   next session has the configured one). */
		source = READRECEIPT_SOURCE_DEFAULT;
	} else {
		value = readreceipt_compat_setting(ruser->compat_set, name);
		source = READRECEIPT_SOURCE_PROCESS;
	}
	readreceipt_refresh_set_source(ctx, name, value == NULL ?
				       READRECEIPT_SOURCE_DEFAULT : source);
	return value;
}

/* Parse the settings from fields (+ configuration, + newer) into a new
   generation of the user's settings. */
static void
readreceipt_refresh_compute(struct readreceipt_user *ruser,
			    const char *const *fields, bool fresh,
			    const struct readreceipt_policy_state *newer,
			    const char *forced_error)
{
	struct readreceipt_refresh_lookup ctx;
	struct readreceipt_policy_state *policy;
	struct readreceipt_policy_entry *entry;
	struct readreceipt_settings *set;
	const char **values, *error;
	unsigned int i;
	pool_t pool;

	pool = pool_alloconly_create("readreceipt policy", 2048);
	policy = p_new(pool, struct readreceipt_policy_state, 1);
	readreceipt_policy_state_init(policy, pool);

	if (fresh && fields != NULL)
		fields = p_strarray_dup(pool, fields);
	i_zero(&ctx);
	ctx.ruser = ruser;
	ctx.fields = fields;
	ctx.fresh = fresh;
	ctx.newer = newer;
	ctx.sources = t_new(const char *, readreceipt_setting_count);
	if (readreceipt_settings_parse(pool, readreceipt_refresh_lookup, &ctx,
				       ruser->user->username, my_hostname,
				       &set, &error) < 0) {
		/* set is filled, in mode disabled, with set->error */
	} else if (forced_error != NULL) {
		set->mode = READRECEIPT_MODE_DISABLED;
		set->error = p_strdup(pool, forced_error);
	}
	/* the values as they are used, with their sources */
	values = t_new(const char *, readreceipt_setting_count + 1);
	readreceipt_settings_values(set, values);
	for (i = 0; i < readreceipt_setting_count; i++) {
		entry = array_append_space(&policy->entries);
		entry->name = readreceipt_setting_names[i];
		entry->value = p_strdup(pool, values[i]);
		entry->source = ctx.sources[i] == NULL ?
			READRECEIPT_SOURCE_DEFAULT :
			p_strdup(pool, ctx.sources[i]);
	}
	policy->error = set->error;
	policy->config_usecs = readreceipt_config_usecs;

	/* A decision running now still holds the previous generation:
	   free the one before it. */
	if (ruser->policy_old_pool != NULL)
		pool_unref(&ruser->policy_old_pool);
	ruser->policy_old_pool = ruser->policy_pool;
	ruser->policy_pool = pool;
	ruser->set = set;
	ruser->policy = policy;
	ruser->policy_fields = fields;
	ruser->policy_time = ioloop_time;
}

void readreceipt_refresh_init(struct readreceipt_user *ruser)
{
	struct mail_user *user = ruser->user;
	const char *read_error = NULL;

	if (readreceipt_compat_settings_get(user, FALSE, &ruser->compat_set,
					    &read_error) == 0)
		read_error = NULL;
	ruser->compat_read_error = read_error == NULL ? NULL :
		p_strconcat(user->pool, "Failed to read the settings: ",
			    read_error, NULL);
	readreceipt_refresh_compute(ruser, user->userdb_fields, FALSE, NULL,
				    ruser->compat_read_error);
}

void readreceipt_refresh_deinit(struct readreceipt_user *ruser)
{
	if (ruser->policy_old_pool != NULL)
		pool_unref(&ruser->policy_old_pool);
	if (ruser->policy_pool != NULL)
		pool_unref(&ruser->policy_pool);
	readreceipt_compat_settings_free(&ruser->compat_set);
}

static const char *readreceipt_refresh_state_path(struct readreceipt_user *ruser)
{
	const char *dir, *error;

	if (ruser->state_path == NULL) {
		if (readreceipt_outbox_dir(ruser->user, &dir, &error) < 0)
			return NULL;
		ruser->state_path = p_strconcat(ruser->user->pool, dir, "/",
						READRECEIPT_POLICY_STATE_FNAME,
						NULL);
	}
	return ruser->state_path;
}

/* Read the state file. Returns 1 if it was there, 0 if not, -1 with
   *error_r. */
static int
readreceipt_refresh_state_read(const char *path, pool_t pool,
			       struct readreceipt_policy_state *state,
			       struct stat *st_r, const char **error_r)
{
	const char *data;
	int ret;

	readreceipt_policy_state_init(state, pool);
	ret = readreceipt_outbox_read_file(path, READRECEIPT_POLICY_STATE_MAX,
					   &data, st_r, error_r);
	if (ret > 0)
		readreceipt_policy_state_parse(state, pool, data);
	return ret;
}

/* The policy record this process read last: a process that delivers or
   opens mail for the same user again and again (LMTP) then only stat()s
   it. Every rewrite renames a new file into place (a new inode). */
static struct {
	pool_t pool;
	char *path;
	struct readreceipt_policy_stamp stamp;
	struct readreceipt_policy_state state;
} readreceipt_state_cache;

static int
readreceipt_refresh_state_read_cached(const char *path,
				      struct readreceipt_policy_state *state_r,
				      struct stat *st_r, const char **error_r)
{
	struct stat st;
	int ret;

	if (stat(path, &st) == 0 &&
	    null_strcmp(readreceipt_state_cache.path, path) == 0 &&
	    readreceipt_policy_stamp_is(&readreceipt_state_cache.stamp, &st)) {
		/* read only: the entries stay the cache's */
		*state_r = readreceipt_state_cache.state;
		*st_r = st;
		return 1;
	}
	pool_unref(&readreceipt_state_cache.pool);
	i_zero(&readreceipt_state_cache);
	readreceipt_state_cache.pool =
		pool_alloconly_create("readreceipt policy record", 2048);
	ret = readreceipt_refresh_state_read(path, readreceipt_state_cache.pool,
					     &readreceipt_state_cache.state,
					     st_r, error_r);
	if (ret <= 0) {
		pool_unref(&readreceipt_state_cache.pool);
		i_zero(&readreceipt_state_cache);
		readreceipt_policy_state_init(state_r, pool_datastack_create());
		return ret;
	}
	readreceipt_state_cache.path =
		p_strdup(readreceipt_state_cache.pool, path);
	readreceipt_policy_stamp_get(&readreceipt_state_cache.stamp, st_r);
	*state_r = readreceipt_state_cache.state;
	return 1;
}

void readreceipt_refresh_deinit_process(void)
{
	pool_unref(&readreceipt_state_cache.pool);
	i_zero(&readreceipt_state_cache);
}

static void
readreceipt_refresh_remember(struct readreceipt_user *ruser,
			     const struct stat *st)
{
	readreceipt_policy_stamp_get(&ruser->state_stamp, st);
}

/* Emit the events of what changed from old_state to new_state. Returns
   FALSE when nothing did. */
static bool
readreceipt_refresh_emit(struct readreceipt_user *ruser,
			 const struct readreceipt_policy_state *old_state,
			 const struct readreceipt_policy_state *new_state)
{
	struct readreceipt_policy_change_info info;
	const struct readreceipt_policy_entry *entry, *old;
	ARRAY_TYPE(const_string) names;
	const char *const *name;
	bool validity_changed;

	t_array_init(&names, 8);
	readreceipt_policy_state_diff(old_state, new_state, &names,
				      &validity_changed);
	i_zero(&info);
	info.user = ruser->user->username;
	info.error = new_state->error;
	array_foreach(&names, name) {
		entry = readreceipt_policy_state_find(new_state, *name);
		old = readreceipt_policy_state_find(old_state, *name);
		info.setting = *name;
		info.old_value = old == NULL ? "" : old->value;
		info.new_value = entry->value;
		info.source = entry->source;
		readreceipt_event_policy_changed(ruser->event, &info);
	}
	if (validity_changed && array_count(&names) == 0) {
		info.setting = READRECEIPT_POLICY_VALIDITY;
		info.old_value = old_state->error == NULL ? "valid" :
			old_state->error;
		info.new_value = new_state->error == NULL ? "valid" :
			new_state->error;
		info.source = "";
		readreceipt_event_policy_changed(ruser->event, &info);
	}
	return array_count(&names) > 0 || validity_changed;
}

static bool
readreceipt_refresh_differs(const struct readreceipt_policy_state *old_state,
			    const struct readreceipt_policy_state *new_state)
{
	ARRAY_TYPE(const_string) names;
	bool validity_changed;

	t_array_init(&names, 8);
	readreceipt_policy_state_diff(old_state, new_state, &names,
				      &validity_changed);
	return array_count(&names) > 0 || validity_changed;
}

/* Tell the configured values from the defaults, by the settings as
   written (on 2.4 a %variable's default and its expansion differ). Only
   done when the policy is recorded or shown. */
static void readreceipt_refresh_resolve(struct readreceipt_user *ruser)
{
	struct readreceipt_compat_settings *written;
	struct readreceipt_policy_entry *entry;
	const char *error;
	unsigned int i, count;

	count = array_count(&ruser->policy->entries);
	for (i = 0; i < count; i++) {
		entry = array_idx_modifiable(&ruser->policy->entries, i);
		if (strcmp(entry->source, READRECEIPT_SOURCE_PROCESS) == 0)
			break;
	}
	if (i == count)
		return;
	if (readreceipt_compat_settings_get(ruser->user, TRUE, &written,
					    &error) < 0)
		written = NULL;
	for (; i < count; i++) {
		entry = array_idx_modifiable(&ruser->policy->entries, i);
		if (strcmp(entry->source, READRECEIPT_SOURCE_PROCESS) != 0)
			continue;
		entry->source = written != NULL &&
			readreceipt_compat_setting_configured(written,
				entry->name) != NULL ?
			READRECEIPT_SOURCE_CONFIG : READRECEIPT_SOURCE_DEFAULT;
	}
	if (written != NULL)
		readreceipt_compat_settings_free(&written);
}

static int
readreceipt_refresh_write(struct readreceipt_user *ruser, const char *path,
			  bool apply, time_t *seen_r, const char **error_r)
{
	struct dotlock_settings dotlock_set;
	struct readreceipt_policy_state old_state, new_state;
	struct dotlock *dotlock;
	struct stat st;
	string_t *str;
	pool_t pool;
	int fd, ret;

	i_zero(&dotlock_set);
	dotlock_set.timeout = READRECEIPT_OUTBOX_LOCK_TIMEOUT_SECS;
	dotlock_set.stale_timeout = 60;
	fd = file_dotlock_open(&dotlock_set, path, 0, &dotlock);
	if (fd == -1 && errno == ENOENT) {
		if (readreceipt_outbox_mkdir_parent(path, error_r) < 0)
			return -1;
		fd = file_dotlock_open(&dotlock_set, path, 0, &dotlock);
	}
	if (fd == -1) {
		*error_r = t_strdup_printf("file_dotlock_open(%s) failed: %m",
					   path);
		return -1;
	}
	pool = pool_datastack_create();
	/* again under the lock: who saw the change first tells it */
	ret = readreceipt_refresh_state_read(path, pool, &old_state, &st,
					     error_r);
	if (ret < 0) {
		file_dotlock_delete(&dotlock);
		return -1;
	}
	readreceipt_refresh_resolve(ruser);
	new_state = *ruser->policy;
	new_state.config_usecs = I_MAX(old_state.config_usecs,
				      readreceipt_config_usecs);
	new_state.applied = apply ? ioloop_time : old_state.applied;
	if (ret == 0) {
		/* first seen: nothing to compare with */
		new_state.seen = ioloop_time;
	} else if (readreceipt_refresh_emit(ruser, &old_state, &new_state)) {
		new_state.seen = ioloop_time;
	} else {
		new_state.seen = old_state.seen;
		if (!apply) {
			/* nothing new to record */
			file_dotlock_delete(&dotlock);
			*seen_r = old_state.seen;
			return 0;
		}
	}
	str = t_str_new(1024);
	readreceipt_policy_state_write(&new_state, str);
	if (write_full(fd, str_data(str), str_len(str)) < 0) {
		*error_r = t_strdup_printf("write(%s) failed: %m",
			file_dotlock_get_lock_path(dotlock));
		file_dotlock_delete(&dotlock);
		return -1;
	}
	if (file_dotlock_replace(&dotlock, 0) < 0) {
		*error_r = t_strdup_printf("file_dotlock_replace(%s) failed: %m",
					   path);
		return -1;
	}
	if (stat(path, &st) == 0)
		readreceipt_refresh_remember(ruser, &st);
	*seen_r = new_state.seen;
	return 0;
}

/* Record the policy computed last as seen, telling a change. */
static int
readreceipt_refresh_sync_state(struct readreceipt_user *ruser,
			       const struct readreceipt_policy_state *file_state,
			       bool file_exists, bool apply, time_t *seen_r,
			       const char **error_r)
{
	const char *path = readreceipt_refresh_state_path(ruser);

	if (path == NULL) {
		/* no place to keep it (no home, no INBOX): nothing to
		   compare with */
		*seen_r = ruser->policy_time;
		return 0;
	}
	ruser->policy_synced = TRUE;
	if (file_exists && !apply &&
	    !readreceipt_refresh_differs(file_state, ruser->policy)) {
		/* the common case: what was seen last, unchanged */
		*seen_r = file_state->seen;
		return 0;
	}
	return readreceipt_refresh_write(ruser, path, apply, seen_r, error_r);
}

/* Read the policy again: the userdb if lookup, the configuration that a
   newer process recorded, and record it. */
static void readreceipt_refresh(struct readreceipt_user *ruser, bool lookup)
{
	struct mail_user *user = ruser->user;
	struct readreceipt_policy_state file_state;
	const char *const *fields = ruser->policy_fields;
	const char *path, *error, *old_error = ruser->set->error;
	struct stat st;
	time_t seen;
	bool fresh = fields != user->userdb_fields, newer;
	pool_t lookup_pool = NULL;
	int ret = 0;

	if (lookup) {
		/* not the data stack: the lookup runs its own ioloop */
		lookup_pool = pool_alloconly_create("readreceipt userdb", 1024);
		ret = readreceipt_compat_userdb_lookup(user, lookup_pool,
						       &fields, &error);
		if (ret < 0) {
			/* keep the values of the last lookup; tried again at
			   the next decision */
			e_error(ruser->event, "Failed to read the policy "
				"again from the userdb, using the one read "
				"%ld s ago: %s",
				(long)(ioloop_time - ruser->policy_time),
				error);
			fields = ruser->policy_fields;
		} else if (ret == 0) {
			e_error(ruser->event, "The userdb no longer knows "
				"the user: receipts are disabled for this "
				"session");
			fields = NULL;
		}
		fresh = TRUE;
	}

	path = readreceipt_refresh_state_path(ruser);
	ret = path == NULL ? 0 :
		readreceipt_refresh_state_read_cached(path, &file_state, &st,
						      &error);
	if (ret < 0) {
		e_error(ruser->event, "%s", error);
		ret = 0;
	}
	if (ret > 0)
		readreceipt_refresh_remember(ruser, &st);

	newer = ret > 0 && file_state.config_usecs > readreceipt_config_usecs;
	if (lookup || newer) {
		readreceipt_refresh_compute(ruser, fields, fresh,
			newer ? &file_state : NULL, lookup && fields == NULL ?
			"The userdb no longer knows the user" :
			ruser->compat_read_error);
	}
	/* compute copied the fields */
	if (lookup_pool != NULL)
		pool_unref(&lookup_pool);
	if (ruser->set->error != NULL &&
	    null_strcmp(ruser->set->error, old_error) != 0) {
		e_error(ruser->event, "Invalid settings, receipts are "
			"disabled for this user: %s", ruser->set->error);
	}
	if (readreceipt_refresh_sync_state(ruser, &file_state, ret > 0, FALSE,
					   &seen, &error) < 0) {
		e_error(ruser->event, "Failed to record the policy: %s",
			error);
	}
}

/* TRUE if the state file changed since this session last saw it (another
   process recorded a change, or doveadm readreceipt refresh ran). */
static bool readreceipt_refresh_state_changed(struct readreceipt_user *ruser)
{
	const char *path;
	struct stat st;

	if (ruser->state_checked == ioloop_time)
		return FALSE;
	ruser->state_checked = ioloop_time;
	path = readreceipt_refresh_state_path(ruser);
	if (path == NULL)
		return FALSE;
	if (stat(path, &st) < 0) {
		/* removed: the next refresh writes it again */
		return FALSE;
	}
	return !readreceipt_policy_stamp_is(&ruser->state_stamp, &st);
}

const struct readreceipt_settings *
readreceipt_user_policy(struct readreceipt_user *ruser)
{
	unsigned int refresh_secs = ruser->set->policy_refresh_secs;

	if (ruser->session == READRECEIPT_SESSION_NONE)
		return ruser->set;
	T_BEGIN {
		if (ioloop_time - ruser->policy_time >= (time_t)refresh_secs ||
		    ioloop_time < ruser->policy_time) {
			/* older than readreceipt_policy_refresh */
			readreceipt_refresh(ruser, TRUE);
		} else if (!ruser->policy_synced) {
			/* the first decision of this user object */
			readreceipt_refresh(ruser, FALSE);
		} else if (readreceipt_refresh_state_changed(ruser)) {
			readreceipt_refresh(ruser, TRUE);
		}
	} T_END;
	return ruser->set;
}

int readreceipt_refresh_sync(struct readreceipt_user *ruser, bool apply,
			     time_t *seen_r, const char **error_r)
{
	struct readreceipt_policy_state file_state;
	const char *path;
	struct stat st;
	int ret;

	path = readreceipt_refresh_state_path(ruser);
	if (path == NULL) {
		*error_r = "No index or home directory to keep the policy in";
		return -1;
	}
	ret = readreceipt_refresh_state_read(path, pool_datastack_create(),
					     &file_state, &st, error_r);
	if (ret < 0)
		return -1;
	return readreceipt_refresh_sync_state(ruser, &file_state, ret > 0,
					      apply, seen_r, error_r);
}
